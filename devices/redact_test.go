package devices

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Each line holds the secret S3cr3tXy; the redacted line must not, and must keep the rest.
func TestRedactConfigTable(t *testing.T) {
	const s = "S3cr3tXy"
	cases := []struct{ in, want string }{
		{"enable password S3cr3tXy encrypted", "enable password <redacted> encrypted"},
		{"enable password $sha512$5000$S3cr3tXy$abc== pbkdf2", "enable password <redacted> pbkdf2"},
		{"passwd S3cr3tXy encrypted", "passwd <redacted> encrypted"},
		{"username admin password S3cr3tXy encrypted privilege 15", "username admin password <redacted> encrypted privilege 15"},
		{"username admin password 7 S3cr3tXy", "username admin password 7 <redacted>"},
		{"username admin privilege 15 secret 9 $9$S3cr3tXy", "username admin privilege 15 secret 9 <redacted>"},
		{"enable secret 5 $1$S3cr3tXy$", "enable secret 5 <redacted>"},
		{"enable secret level 15 5 $1$S3cr3tXy", "enable secret level 15 5 <redacted>"},
		{" key S3cr3tXy", " key <redacted>"},
		{" pre-shared-key S3cr3tXy", " pre-shared-key <redacted>"},
		{" ikev1 pre-shared-key S3cr3tXy", " ikev1 pre-shared-key <redacted>"},
		{" ikev2 remote-authentication pre-shared-key S3cr3tXy", " ikev2 remote-authentication pre-shared-key <redacted>"},
		{" ikev2 local-authentication pre-shared-key 8 S3cr3tXy", " ikev2 local-authentication pre-shared-key 8 <redacted>"},
		{"crypto isakmp key S3cr3tXy address 192.0.2.1", "crypto isakmp key <redacted> address 192.0.2.1"},
		{"snmp-server community S3cr3tXy", "snmp-server community <redacted>"},
		{"snmp-server community S3cr3tXy RO 10", "snmp-server community <redacted> RO 10"},
		{"snmp-server host inside 10.1.1.5 community S3cr3tXy version 2c", "snmp-server host inside 10.1.1.5 community <redacted> version 2c"},
		{"snmp-server host 10.1.1.5 version 2c S3cr3tXy", "snmp-server host 10.1.1.5 version 2c <redacted>"},
		{"snmp-server user u g v3 auth sha S3cr3tXy priv aes 128 S3cr3tXy", "snmp-server user u g v3 auth sha <redacted> priv aes 128 <redacted>"},
		{"aaa-server TAC (inside) host 10.1.1.9 S3cr3tXy timeout 5", "aaa-server TAC (inside) host 10.1.1.9 <redacted> timeout 5"},
		{" ldap-login-password S3cr3tXy", " ldap-login-password <redacted>"},
		{"ntp authentication-key 1 md5 S3cr3tXy", "ntp authentication-key 1 md5 <redacted>"},
		{"ntp authentication-key 1 md5 S3cr3tXy 7", "ntp authentication-key 1 md5 <redacted> 7"},
		{" key-string S3cr3tXy", " key-string <redacted>"},
		{" key-string 7 S3cr3tXy", " key-string 7 <redacted>"},
		{"tacacs-server key 7 S3cr3tXy", "tacacs-server key 7 <redacted>"},
		{"tacacs-server host 10.1.1.1 key S3cr3tXy", "tacacs-server host 10.1.1.1 key <redacted>"},
		{"radius-server host 10.1.1.1 auth-port 1645 key S3cr3tXy", "radius-server host 10.1.1.1 auth-port 1645 key <redacted>"},
		{"radius-server key S3cr3tXy", "radius-server key <redacted>"},
		{" ospf message-digest-key 1 md5 S3cr3tXy", " ospf message-digest-key 1 md5 <redacted>"},
		{" ip ospf message-digest-key 1 md5 7 S3cr3tXy", " ip ospf message-digest-key 1 md5 7 <redacted>"},
		{" ospf authentication-key S3cr3tXy", " ospf authentication-key <redacted>"},
		{"failover key S3cr3tXy", "failover key <redacted>"},
		{"enable password S3cr3tXy\r", "enable password <redacted>"},
	}
	for _, c := range cases {
		got := RedactConfig(c.in)
		if got != c.want || strings.Contains(got, s) {
			t.Errorf("RedactConfig(%q) = %q; want %q", c.in, got, c.want)
		}
		if again := RedactConfig(got); again != got {
			t.Errorf("RedactConfig is not idempotent on %q: %q", got, again)
		}
	}
	// Lines without secrets are kept byte for byte, spacing and all.
	for _, keep := range []string{
		"access-list OUTSIDE_IN extended deny ip host 203.0.113.7 any",
		"crypto key generate rsa modulus 2048",
		"key chain OSPF",
		"show crypto key mypubkey rsa",
		"password encryption aes",
		"interface  GigabitEthernet0/0   ",
		"Password:",
	} {
		if got := RedactConfig(keep); got != keep {
			t.Errorf("RedactConfig(%q) = %q; want it unchanged", keep, got)
		}
	}
}

func TestRedactConfigBlocks(t *testing.T) {
	in := `crypto ca trustpoint TP
 enrollment self
crypto ca certificate chain TP
 certificate 3a8c4f5e
    308201f4 3082015d a0030201 0202043a 8c4f5e30 0d06092a 864886f7 0d010105
    0500303c 311a3018 06035504 03131166 77312e65 78616d70 6c652e63 6f6d311e
    deadbeef
  quit
-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu
-----END RSA PRIVATE KEY-----
telnet timeout 5`
	got := RedactConfig(in)
	for _, leak := range []string{"308201f4", "0500303c", "deadbeef", "MIIBOgIBAAJBAKj34"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q left in:\n%s", leak, got)
		}
	}
	for _, keep := range []string{"crypto ca certificate chain TP", " certificate 3a8c4f5e", "  quit", "telnet timeout 5", " enrollment self"} {
		if !strings.Contains(got, keep+"\n") && !strings.HasSuffix(got, keep) {
			t.Errorf("%q lost:\n%s", keep, got)
		}
	}
	if n, m := strings.Count(in, "\n"), strings.Count(got, "\n"); n != m {
		t.Errorf("lines %d -> %d", n, m)
	}
}

var fuzzTemplates = []string{
	"enable password %s encrypted", "username u password %s pbkdf2 privilege 15", "username u secret 5 %s",
	"passwd %s", " key %s", "snmp-server community %s", "snmp-server host inside 1.2.3.4 community %s version 2c",
	" ikev1 pre-shared-key %s", " ikev2 remote-authentication pre-shared-key %s", "ntp authentication-key 3 md5 %s",
	" key-string 7 %s", "tacacs-server key %s", " ospf message-digest-key 2 md5 %s", "enable secret %s",
	" ldap-login-password %s", "aaa-server A (inside) host 10.0.0.1 %s", "radius-server host 10.0.0.2 key %s",
}

// Whatever the value after a secret keyword, and whatever text surrounds the line, the value
// does not survive redaction.
func FuzzRedactConfig(f *testing.F) {
	for i := range fuzzTemplates {
		f.Add(uint8(i), "Zq9secretvalue", "hostname fw1", "access-list A extended permit ip any any")
	}
	f.Add(uint8(0), "$sha512$5000$abc==", "-----BEGIN X-----", " certificate 01")
	f.Fuzz(func(t *testing.T, which uint8, secret, before, after string) {
		tmpl := fuzzTemplates[int(which)%len(fuzzTemplates)]
		if len(secret) < 4 || strings.IndexFunc(secret, unicode.IsSpace) >= 0 || !utf8.ValidString(secret) ||
			strings.Contains(tmpl, secret) || strings.Contains(redactedText, secret) ||
			strings.Contains(before, secret) || strings.Contains(after, secret) || keyNotSecret[secret] {
			t.Skip()
		}
		switch secret {
		case "level", "encryption", "policy", "management", "timeout":
			t.Skip() // grammar words, not values
		}
		in := before + "\n" + strings.Replace(tmpl, "%s", secret, 1) + "\n" + after
		if out := RedactConfig(in); strings.Contains(out, secret) {
			t.Fatalf("RedactConfig(%q) = %q: the secret is left", in, out)
		}
	})
}
