package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-dev/firebreak/remediate"
)

// configSecrets are in the fake ASA's running configuration below: its own password hashes,
// keys, pre-shared keys, SNMP communities and a certificate, which firebreak never knows as
// values. Letters and digits only, so that no JSON or display escaping can hide one from the
// scan.
var configSecrets = []string{
	"EnaHash8Ry2YjIyt", "PasswdHash2KFQnb", "UserHashZJd9Kk3", "AaaKeyQ7w2xx", "LdapPwX81yy",
	"SnmpHostCommZ9", "SnmpCommRo4qq", "NtpKeyM5d7zz", "PskIke1V9ab", "PskRemoteV2cd",
	"PskLocalV2ef", "FailKeyF0gh", "308201f43082015d", "a0030201deadbeef",
}

const secretsASA = proposalsASA + `enable password EnaHash8Ry2YjIyt encrypted
passwd PasswdHash2KFQnb encrypted
username admin password UserHashZJd9Kk3 encrypted privilege 15
aaa-server TAC protocol tacacs+
aaa-server TAC (inside) host 10.20.0.40
 key AaaKeyQ7w2xx
aaa-server LDAP protocol ldap
aaa-server LDAP (inside) host 10.20.0.41
 ldap-login-password LdapPwX81yy
snmp-server host inside 10.20.0.30 community SnmpHostCommZ9 version 2c
snmp-server community SnmpCommRo4qq
ntp authentication-key 1 md5 NtpKeyM5d7zz
tunnel-group 192.0.2.9 type ipsec-l2l
tunnel-group 192.0.2.9 ipsec-attributes
 ikev1 pre-shared-key PskIke1V9ab
 ikev2 remote-authentication pre-shared-key PskRemoteV2cd
 ikev2 local-authentication pre-shared-key PskLocalV2ef
failover key FailKeyF0gh
crypto ca certificate chain TP
 certificate 3a8c4f5e
    308201f43082015d a0030201deadbeef 0202043a 8c4f5e30
  quit
`

// A dry run, a push, feedback and a revert over SSH against a box whose configuration holds
// secrets: none of them is in any file of the data folder (database, transcripts in the
// proposal records, audit entries, raw archive), in the commands' output or in the debug log.
func TestNoConfigSecretInAnyFile(t *testing.T) {
	srv, dir, base := cliRigWith(t, secretsASA, "")
	for _, s := range configSecrets {
		if !strings.Contains(srv.Running(), s) {
			t.Fatalf("the fake's configuration lacks %q", s)
		}
	}
	var printed bytes.Buffer
	cli := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, "", append(append([]string{"--log-level", "debug"}, base...), args...)...)
		printed.WriteString(out + errOut)
		if code != 0 {
			t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
		}
		return out
	}
	findings := filepath.Join(dir, "findings.json")
	write(t, findings, auditFindings)
	cli("propose", "--findings", findings)
	cli("proposals", "diff", "p-0001")
	cli("proposals", "approve", "p-0001", "--comment", "ok")
	cli("proposals", "push", "p-0001")
	cli("proposals", "feedback", "p-0001")
	cli("proposals", "show", "p-0001", "--transcript")
	var p struct {
		remediate.Proposal
	}
	if err := json.Unmarshal([]byte(cli("proposals", "show", "p-0001", "--json")), &p); err != nil {
		t.Fatal(err)
	}
	// The transcript is there and did carry the configuration, redacted.
	if !strings.Contains(p.Transcript, "show running-config") || !strings.Contains(p.Transcript, "community <redacted>") ||
		!strings.Contains(p.Transcript, "ikev1 pre-shared-key <redacted>") {
		t.Fatalf("transcript without the redacted configuration:\n%s", p.Transcript)
	}
	cli("proposals", "revert", "p-0001", "--comment", "done")
	cli("proposals", "audit")

	scan := func(name string, b []byte) {
		for _, s := range configSecrets {
			if bytes.Contains(b, []byte(s)) {
				i := bytes.Index(b, []byte(s))
				t.Errorf("%s holds %q: ...%s...", name, s, b[max(0, i-80):min(len(b), i+40)])
			}
		}
	}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if path == filepath.Join(dir, "site.yaml") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if strings.HasSuffix(path, ".gz") {
			if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
				if u, err := io.ReadAll(zr); err == nil {
					b = append(b, u...)
				}
			}
		}
		scan(path, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Fatalf("scanned %d files; want the database and more", files)
	}
	scan("the commands' output and log", printed.Bytes())
}
