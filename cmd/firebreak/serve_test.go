package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsGoThroughTheRunningDaemon starts serve in-process and checks that another command
// finds the data folder locked and runs inside the daemon instead, with the same result.
func TestCommandsGoThroughTheRunningDaemon(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(policy, []byte(`site: t
collector:
  udp_listen: 127.0.0.1:0
  tcp_listen: "off"
  http_listen: "off"
  data_dir: data
devices:
  - {name: asa1, kind: asa, syslog_sources: [127.0.0.1]}
networks:
  - {name: lan, role: workstations, prefixes: [10.0.0.0/8]}
protected: [127.0.0.0/8]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	stop := startServe(t, dir, policy)
	sock := filepath.Join(dir, "data", "firebreak.sock")
	code, out, errOut := runCLI(t, "", "status", "--config", policy)
	if code != 0 {
		t.Fatalf("status exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "daemon        pid") || !strings.Contains(out, "listening     udp 127.0.0.1:") {
		t.Errorf("status did not run inside the daemon:\n%s", out)
	}
	// A second daemon is refused with the owner named.
	code, _, errOut = runCLI(t, "", "serve", "--config", policy)
	if code == 0 || !strings.Contains(errOut, "in use by pid") {
		t.Errorf("second serve: exit %d, %q", code, errOut)
	}
	stop()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}
