package fakeasa

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const smallConfig = `hostname fw1
interface Ethernet0/0
 nameif outside
 ip address 198.51.100.2 255.255.255.248
object-group network MGMT
 network-object host 10.99.0.10
access-list OUTSIDE_IN extended permit tcp host 192.0.2.50 host 198.51.100.2 eq ssh
access-list OUTSIDE_IN extended permit ip object-group MGMT any
access-group OUTSIDE_IN in interface outside
route outside 0.0.0.0 0.0.0.0 198.51.100.1 1
`

func newTestSession(t *testing.T) (*Server, *cliSession) {
	t.Helper()
	s, err := New(Config{RunningConfig: smallConfig})
	if err != nil {
		t.Fatal(err)
	}
	return s, &cliSession{srv: s, mode: modeConfig}
}

func TestCommandReplies(t *testing.T) {
	cases := []struct {
		name  string
		setup []string
		cmd   string
		want  string
	}{
		{name: "invalid input caret", cmd: "access-list X extended permit foo any any",
			want: "access-list X extended permit foo any any\n                              ^\nERROR: % Invalid input detected at '^' marker.\n"},
		{name: "unknown command", cmd: "frobnicate", want: "frobnicate\n^\nERROR: % Invalid input detected at '^' marker.\n"},
		{name: "incomplete", cmd: "access-list X extended deny ip any", want: "ERROR: % Incomplete command\n"},
		{name: "group not found", cmd: "access-list X extended deny ip object-group NOPE any", want: "ERROR: specified object group <NOPE> not found\n"},
		{name: "group in use", cmd: "no object-group network MGMT", want: "Removing object-group (MGMT) not allowed, it is being used.\n"},
		{name: "duplicate member", setup: []string{"object-group network MGMT"}, cmd: "network-object host 10.99.0.10",
			want: "Adding obj (network-object host 10.99.0.10) to grp (MGMT) failed; object already exists\n"},
		{name: "absent member", setup: []string{"object-group network MGMT"}, cmd: "no network-object host 10.99.0.11", want: "obj does not exist in this group\n"},
		{name: "empty a used group", setup: []string{"object-group network MGMT"}, cmd: "no network-object host 10.99.0.10",
			want: "Removing obj from object-group not allowed; object-group (MGMT), being used in access-list or threat-detection or NAT, would become empty\n"},
		{name: "duplicate ACE", cmd: "access-list OUTSIDE_IN line 1 extended permit ip object-group MGMT any",
			want: "ERROR: access-list OUTSIDE_IN: ACE not added. Possible duplicate entry\n"},
		{name: "route exists", cmd: "route outside 0.0.0.0 0.0.0.0 198.51.100.1", want: "Route already exists\n"},
		{name: "route unknown interface", cmd: "route dmz 10.0.0.0 255.0.0.0 10.1.1.1", want: "route dmz 10.0.0.0 255.0.0.0 10.1.1.1\n      ^\nERROR: % Invalid input detected at '^' marker.\n"},
		{name: "mask does not pair", cmd: "access-list X extended deny ip 10.1.1.1 255.255.255.0 any", want: "ERROR: IP address,mask <10.1.1.1,255.255.255.0> doesn't pair\n"},
		{name: "access-group unknown ACL", cmd: "access-group NOPE in interface outside", want: "ERROR: access-list <NOPE> does not exist\n"},
		{name: "terminal width", cmd: "terminal width 511", want: ""},
		{name: "terminal width range", cmd: "terminal width 512", want: "terminal width 512\n               ^\nERROR: % Invalid input detected at '^' marker.\n"},
		{name: "remark too long", cmd: "access-list X remark " + strings.Repeat("r", 101), want: "access-list X remark " + strings.Repeat("r", 101) + "\n" + strings.Repeat(" ", 121) + "^\nERROR: % Invalid input detected at '^' marker.\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, sess := newTestSession(t)
			before := s.Running()
			for _, l := range tc.setup {
				if r := sess.run(l); r.out != "" {
					t.Fatalf("setup %q: %q", l, r.out)
				}
			}
			if got := sess.run(tc.cmd).out; got != tc.want {
				t.Errorf("reply to %q:\n got %q\nwant %q", tc.cmd, got, tc.want)
			}
			if tc.want != "" && s.Running() != before {
				t.Errorf("a refused command changed the config")
			}
		})
	}
}

func TestEditsRenderCanonically(t *testing.T) {
	s, sess := newTestSession(t)
	for _, l := range []string{
		"object-group network BLOCK",
		"description firebreak managed",
		"network-object 203.0.113.7 255.255.255.255",
		"network-object 198.51.100.64 255.255.255.192",
		"access-list OUTSIDE_IN line 1 remark firebreak:prop-1",
		"access-list OUTSIDE_IN line 2 deny ip object-group BLOCK any4",
		"access-list OUTSIDE_IN extended permit tcp any host 198.51.100.4 eq 443",
		"route outside 10.40.0.0 255.255.0.0 198.51.100.1 5",
		"no route outside 0.0.0.0 0.0.0.0 198.51.100.1 1",
		"end",
	} {
		if r := sess.run(l); r.out != "" {
			t.Fatalf("%q: %q", l, r.out)
		}
	}
	want := `hostname fw1
interface Ethernet0/0
 nameif outside
 ip address 198.51.100.2 255.255.255.248
object-group network MGMT
 network-object host 10.99.0.10
object-group network BLOCK
 description firebreak managed
 network-object host 203.0.113.7
 network-object 198.51.100.64 255.255.255.192
access-list OUTSIDE_IN remark firebreak:prop-1
access-list OUTSIDE_IN extended deny ip object-group BLOCK any4
access-list OUTSIDE_IN extended permit tcp host 192.0.2.50 host 198.51.100.2 eq ssh
access-list OUTSIDE_IN extended permit ip object-group MGMT any
access-list OUTSIDE_IN extended permit tcp any host 198.51.100.4 eq https
access-group OUTSIDE_IN in interface outside
route outside 10.40.0.0 255.255.0.0 198.51.100.1 5
`
	if got := s.Running(); got != want {
		t.Errorf("running config:\n%s\nwant:\n%s", got, want)
	}
	if got := sess.run("show running-config object-group id BLOCK").out; got != "object-group network BLOCK\n description firebreak managed\n network-object host 203.0.113.7\n network-object 198.51.100.64 255.255.255.192\n" {
		t.Errorf("show running-config object-group id BLOCK = %q", got)
	}
	if got := sess.run("show running-config route").out; got != "route outside 10.40.0.0 255.255.0.0 198.51.100.1 5\n" {
		t.Errorf("show running-config route = %q", got)
	}

	// Matching and hit counts.
	line, action, ok := s.Match("OUTSIDE_IN", Packet{Src: netip.MustParseAddr("198.51.100.70"), Dst: netip.MustParseAddr("198.51.100.2"), Proto: "tcp", DstPort: 22})
	if !ok || line != 2 || action != "deny" {
		t.Errorf("Match = %d %s %v, want line 2 deny", line, action, ok)
	}
	if _, _, ok := s.Match("OUTSIDE_IN", Packet{Src: netip.MustParseAddr("192.0.2.99"), Dst: netip.MustParseAddr("198.51.100.9"), Proto: "udp", DstPort: 53}); ok {
		t.Error("implicit deny matched a rule")
	}
	if err := s.SetHits("OUTSIDE_IN", 3, 41); err != nil {
		t.Fatal(err)
	}
	out := sess.run("show access-list OUTSIDE_IN").out
	for _, w := range []string{
		"access-list OUTSIDE_IN; 5 elements; name hash: 0x",
		"\naccess-list OUTSIDE_IN line 1 remark firebreak:prop-1\n",
		"\naccess-list OUTSIDE_IN line 2 extended deny ip object-group BLOCK any4 (hitcnt=1) 0x",
		"\n  access-list OUTSIDE_IN line 2 extended deny ip host 203.0.113.7 any4 (hitcnt=0) 0x",
		"\n  access-list OUTSIDE_IN line 2 extended deny ip 198.51.100.64 255.255.255.192 any4 (hitcnt=1) 0x",
		"\naccess-list OUTSIDE_IN line 3 extended permit tcp host 192.0.2.50 host 198.51.100.2 eq ssh (hitcnt=41) 0x",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("show access-list lacks %q:\n%s", w, out)
		}
	}
	if err := s.SetHits("OUTSIDE_IN", 1, 1); err == nil {
		t.Error("SetHits on a remark succeeded")
	}
}

func TestRunningConfigRoundTripSamples(t *testing.T) {
	for _, name := range []string{"clinic.cfg", "clinic-names.cfg"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "asa-config", name))
		if err != nil {
			t.Skipf("sample config: %v", err)
		}
		s, err := New(Config{RunningConfig: string(b)})
		if err != nil {
			t.Fatal(err)
		}
		if s.Running() != string(b) {
			t.Errorf("%s: Running() differs from the loaded config", name)
		}
	}
}

func TestServiceGroupsAndObjectsExpand(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "asa-config", "clinic.cfg"))
	if err != nil {
		t.Skipf("sample config: %v", err)
	}
	s, err := New(Config{RunningConfig: string(b)})
	if err != nil {
		t.Fatal(err)
	}
	line, action, ok := s.Match("OUTSIDE_IN", Packet{Src: netip.MustParseAddr("192.0.2.200"), Dst: netip.MustParseAddr("172.16.20.10"), Proto: "tcp", SrcPort: 50000, DstPort: 443})
	if !ok || line != 7 || action != "permit" {
		t.Fatalf("Match https to the web server = %d %s %v, want line 7 permit", line, action, ok)
	}
	if line, _, _ := s.Match("OUTSIDE_IN", Packet{Src: netip.MustParseAddr("192.0.2.200"), Dst: netip.MustParseAddr("172.16.20.10"), Proto: "tcp", SrcPort: 50000, DstPort: 25}); line != 10 {
		t.Errorf("smtp to the web server matched line %d, want the final deny (10)", line)
	}
	sess := &cliSession{srv: s, mode: modePriv}
	out := sess.run("show access-list OUTSIDE_IN").out
	for _, w := range []string{
		"access-list OUTSIDE_IN; 9 elements;",
		"\naccess-list OUTSIDE_IN line 7 extended permit tcp any object obj-web-dmz object-group WEB-PORTS (hitcnt=1) 0x",
		"\n  access-list OUTSIDE_IN line 7 extended permit tcp any host 172.16.20.10 eq www (hitcnt=0) 0x",
		"\n  access-list OUTSIDE_IN line 7 extended permit tcp any host 172.16.20.10 eq https (hitcnt=1) 0x",
		"\naccess-list OUTSIDE_IN line 10 extended deny ip any any log informational interval 300 (hitcnt=1) 0x",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("show access-list lacks %q:\n%s", w, out)
		}
	}
}
