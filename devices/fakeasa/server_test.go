package fakeasa

import (
	"bytes"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestShellOverSSH drives the fake with a bare x/crypto client: echo of
// typed bytes, CRLF, prompts, no echo of the enable secret, and Close
// ending every goroutine.
func TestShellOverSSH(t *testing.T) {
	base := runtime.NumGoroutine()
	s, err := New(Config{RunningConfig: smallConfig, User: "u", Password: "pw", EnableSecret: "s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := s.WriteKnownHosts(kh); err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(kh)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "u", Auth: []ssh.AuthMethod{ssh.Password("pw")}, HostKeyCallback: cb})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	outPipe, _ := sess.StdoutPipe()
	if err := sess.RequestPty("vt100", 24, 511, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	readUntil := func(suffix string) {
		t.Helper()
		buf := make([]byte, 1024)
		for !strings.HasSuffix(got.String(), suffix) {
			n, err := outPipe.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				t.Fatalf("read: %v after %q", err, got.String())
			}
		}
	}
	readUntil("fw1> ")
	io.WriteString(in, "enable\r")
	readUntil("Password: ")
	io.WriteString(in, "s3cr3t\r\n")
	readUntil("fw1# ")
	io.WriteString(in, "show running-config route\n")
	readUntil("fw1# ")
	io.WriteString(in, "configure terminal\nobject-group network B\n")
	readUntil("fw1(config-network-object-group)# ")
	io.WriteString(in, "exit\n")
	readUntil("fw1(config)# ")
	io.WriteString(in, "end\nexit\n")
	_, _ = io.Copy(&got, outPipe)
	want := "Type help or '?' for a list of available commands.\r\nfw1> enable\r\nPassword: \r\nfw1# show running-config route\r\nroute outside 0.0.0.0 0.0.0.0 198.51.100.1 1\r\nfw1# " +
		"configure terminal\r\nfw1(config)# object-group network B\r\nfw1(config-network-object-group)# exit\r\nfw1(config)# end\r\nfw1# exit\r\n"
	if got.String() != want {
		t.Errorf("session bytes:\n got %q\nwant %q", got.String(), want)
	}
	if log := strings.Join(s.Log(), "\n"); strings.Contains(log, "s3cr3t") {
		t.Errorf("command log holds the secret: %q", log)
	}
	sess.Close()
	c.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waited for the server's goroutines; the client's end on their own.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines left, started with %d", n, base)
	}
}

func TestLegacyOnlyRefusesModernClient(t *testing.T) {
	s, err := New(Config{RunningConfig: smallConfig, User: "u", Password: "pw", LegacyAlgorithmsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := &ssh.ClientConfig{User: "u", Auth: []ssh.AuthMethod{ssh.Password("pw")}, HostKeyCallback: ssh.FixedHostKey(s.HostKey())}
	if _, err := ssh.Dial("tcp", addr, cfg); err == nil {
		t.Fatal("modern client connected to a legacy-only server")
	}
	cfg.KeyExchanges = []string{ssh.InsecureKeyExchangeDH1SHA1}
	cfg.Ciphers = []string{ssh.InsecureCipherAES128CBC}
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
