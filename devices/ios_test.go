package devices_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/google/go-cmp/cmp"
)

const iosACLs = `Extended IP access list SAN_IN
    10 permit tcp 10.20.0.0 0.0.0.255 host 10.40.0.5 eq 3260 (1532 matches)
    20 deny ip any any log (7 matches)
`

func iosRig(t *testing.T, mod func(*fakeasa.Config)) *rig {
	return newRig(t, func(c *fakeasa.Config) {
		c.IOS = true
		c.RunningConfig = "hostname r2921\n"
		c.Replies = map[string]string{"show ip access-lists": iosACLs}
		if mod != nil {
			mod(c)
		}
	})
}

func TestIOSShow(t *testing.T) {
	r := iosRig(t, nil)
	d, err := devices.DialIOS(context.Background(), r.target, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, err := d.Show(context.Background(), "show ip access-lists")
	if err != nil {
		t.Fatal(err)
	}
	if out != strings.TrimRight(iosACLs, "\n") {
		t.Errorf("show ip access-lists = %q", out)
	}
	want := []string{"exec: enable", "priv: terminal length 0", "priv: terminal width 512", "priv: show ip access-lists"}
	if diff := cmp.Diff(want, r.srv.Log()); diff != "" {
		t.Errorf("device log (-want +got):\n%s", diff)
	}
	if _, err := d.Show(context.Background(), "show access-list"); !errors.Is(err, devices.ErrNotAllowed) {
		t.Errorf("ASA-only show on IOS: %v, want ErrNotAllowed", err)
	}
	if _, err := d.Show(context.Background(), "show ip route bogus"); !errors.Is(err, devices.ErrRejected) {
		t.Errorf("IOS invalid input: %v, want ErrRejected", err)
	}
}

func TestIOSWrongEnableAndASADriverOnIOS(t *testing.T) {
	r := iosRig(t, func(c *fakeasa.Config) { c.EnableSecret = "other" })
	if _, err := devices.DialIOS(context.Background(), r.target, nil); !errors.Is(err, devices.ErrEnable) {
		t.Fatalf("DialIOS error = %v, want ErrEnable", err)
	}
	r = iosRig(t, nil)
	_, err := devices.DialASA(context.Background(), r.target, nil)
	var ce *devices.CommandError
	if !errors.As(err, &ce) || ce.Command != "terminal pager 0" {
		t.Fatalf("DialASA on IOS error = %v, want the refused terminal pager", err)
	}
}

// An IOS router's running configuration read over SSH: its secrets are in the reply, none is
// in the session transcript.
func TestIOSTranscriptRedactsConfigSecrets(t *testing.T) {
	secrets := []string{"IosEnaSecretQ1", "IosUserSecretW2", "IosUserPw7E3", "IosTacKeyR4", "IosRadKeyT5",
		"IosKeyStringY6", "IosOspfMd5U7", "IosSnmpComI8", "IosNtpKeyO9", "IosIsakmpP0"}
	running := `hostname r2921
enable secret 5 $1$IosEnaSecretQ1
username admin privilege 15 secret 9 $9$IosUserSecretW2
username ops password 7 IosUserPw7E3
tacacs server TAC
 address ipv4 10.20.0.40
 key 7 IosTacKeyR4
radius-server host 10.20.0.41 auth-port 1645 acct-port 1646 key IosRadKeyT5
key chain OSPF
 key 1
  key-string 7 IosKeyStringY6
interface GigabitEthernet0/0
 ip ospf message-digest-key 1 md5 7 IosOspfMd5U7
snmp-server community IosSnmpComI8 RO
ntp authentication-key 1 md5 IosNtpKeyO9 7
crypto isakmp key IosIsakmpP0 address 192.0.2.9
`
	r := iosRig(t, func(c *fakeasa.Config) { c.Replies["show running-config"] = running })
	d, err := devices.DialIOS(context.Background(), r.target, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, err := d.Show(context.Background(), "show running-config")
	if err != nil {
		t.Fatal(err)
	}
	tr := d.Transcript().String()
	for _, s := range secrets {
		if !strings.Contains(out, s) {
			t.Errorf("the reply lacks %q (the caller gets the configuration as is)", s)
		}
		if strings.Contains(tr, s) {
			t.Errorf("transcript holds %q:\n%s", s, tr)
		}
	}
	if !strings.Contains(tr, "snmp-server community <redacted> RO") || !strings.Contains(tr, "key chain OSPF") {
		t.Errorf("transcript:\n%s", tr)
	}
}
