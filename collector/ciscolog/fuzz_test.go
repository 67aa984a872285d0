package ciscolog

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const fuzzMaxInput = 4096

// FuzzParse feeds arbitrary frames to the parser. It must never panic, must keep the Kind
// invariants, must only call an address valid when the frame holds that address as text,
// and must always produce valid JSON.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "syslog", "*.log"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			f.Add([]byte(line))
		}
	}
	for _, edge := range []string{
		"", "%", "%%", "%A-1-B:", "%ASA-6-302013", "%ASA-6-302013:", "ASA-6-", "<191>", "<999>x", "<1",
		"Mar  3 1", "Mar 31 25:00:00 h %ASA-6-302016 x", "2026-13-01T00:00:00Z h %ASA-6-302016 x",
		"<166>1 2026-03-03T09:00:04Z h a p m [sd x=\"]\"] %ASA-6-302016 x",
		"%ASA-6-302013: Built outbound TCP connection 1 for a:fe80::1%eth0/1 (x) to b:c/2 (d)",
		"%ASA-6-302014: Teardown TCP connection 1 for a:1.2.3.4/5 to b:6.7.8.9/10 duration 99999999999:00:00 bytes 99999999999999999999999",
		"%ASA-6-302016: Teardown UDP connection 1 for : to : duration 0:00:00 bytes 1 ()",
		"%ASA-4-106023: Deny tcp src : dst : by access-group \"",
		"%ASA-6-106100: access-list a permitted tcp /( -> /( hit-cnt",
		"%SEC-6-IPACCESSLOGP: list a denied tcp ( -> , 1 packet",
		"%SEC-6-IPACCESSLOGS: list a denied  packet",
		"x message repeated 3 times: [ %ASA-6-302016: Teardown",
	} {
		f.Add([]byte(edge))
	}
	// The template families and the cut-line cases (coverage_test.go, truncate_test.go).
	for id, c := range asaCoverage {
		f.Add([]byte(fmt.Sprintf("%%%s-%06d: %s", c.tag, id, c.body)))
	}
	for _, c := range asaRangeCoverage {
		f.Add([]byte("%" + c.tag + ": " + c.body))
	}
	for _, c := range iosCoverage {
		f.Add([]byte("<189>12: rtr: Mar  3 10:00:01.123 CET: %" + c.tag + ": " + c.body))
	}
	for _, c := range iosMoreCoverage {
		f.Add([]byte("<189>12: rtr: Mar  3 10:00:01.123 CET: %" + c.tag + ": " + c.body))
	}
	for _, l := range cutLines {
		f.Add([]byte(l[:len(l)*2/3]))
	}
	p, sp := newTestParser(), newTestParser()
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) > fuzzMaxInput {
			return
		}
		var ev Event
		p.Parse(frame, &ev)
		checkInvariants(t, "fuzz", &ev)
		// A replay of several files merges them by Stamp: it must be the time Parse gives.
		if st := sp.Stamp(frame); !st.Equal(ev.Time) {
			t.Errorf("Stamp %v, Parse's time %v for %q", st, ev.Time, frame)
		}
		for _, a := range []netip.Addr{ev.Src.Addr, ev.Dst.Addr, ev.Src.MappedAddr, ev.Dst.MappedAddr} {
			if a.IsValid() && !addrInText(string(frame), a) {
				t.Errorf("address %v is not written in the frame %q", a, frame)
			}
		}
		if ev.Src.Addr.IsValid() && ev.Src.Name != "" {
			t.Errorf("Src has both an address and a name: %+v", ev.Src)
		}
		out := AppendECS(nil, &ev)
		if !json.Valid(out) {
			t.Errorf("AppendECS wrote invalid JSON %s for %q", out, frame)
		}
		c := ev.Clone()
		if c.Raw != ev.Raw || c.Text != ev.Text || c.Src != ev.Src || c.Dst != ev.Dst || c.Host != ev.Host {
			t.Errorf("Clone differs from the event for %q", frame)
		}
	})
}

// addrInText reports whether s contains text that netip parses to a.
func addrInText(s string, a netip.Addr) bool {
	isAddrChar := func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == ':' || r == '.')
	}
	for _, tok := range strings.FieldsFunc(s, isAddrChar) {
		for _, cand := range []string{tok, strings.TrimLeft(tok, ":."), strings.TrimRight(tok, ":."), strings.Trim(tok, ":.")} {
			if b, err := netip.ParseAddr(cand); err == nil && b == a {
				return true
			}
			// `iface:addr` with a hex-looking interface name, `addr:port`: try every split at ':'.
			for i := 0; i < len(cand); i++ {
				if cand[i] == ':' {
					if b, err := netip.ParseAddr(cand[i+1:]); err == nil && b == a {
						return true
					}
					if b, err := netip.ParseAddr(cand[:i]); err == nil && b == a {
						return true
					}
					for j := i + 1; j < len(cand); j++ {
						if cand[j] == ':' {
							if b, err := netip.ParseAddr(cand[i+1 : j]); err == nil && b == a {
								return true
							}
						}
					}
				}
			}
		}
	}
	return false
}

// FuzzEnvelopeCache checks that the envelope cache never changes an event: frame b parsed by a
// Parser that has just read frame a (and so may reuse a's envelope, sequence numbers and
// milliseconds masked) gives what a fresh Parser gives, with the time computed without cache.
func FuzzEnvelopeCache(f *testing.F) {
	for _, pair := range [][2]string{
		{"<190>120332: rtr: *Mar  3 10:00:02.234 CET: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up",
			"<190>120333: rtr: *Mar  3 10:00:02.999 CET: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down"},
		{"<190>1: 2: rtr: Mar  3 2026 10:00:02.1 UTC: %SYS-5-CONFIG_I: Configured from console by console",
			"<190>9: 9999999999: rtr: Mar  3 2026 10:00:02.123456789123 UTC: %SYS-5-CONFIG_I: Configured from console by console"},
		{"<189>000123: *Dec 31 23:59:59.500: %SYS-5-RESTART: System restarted --",
			"<189>000124: *Dec 31 23:59:59.: %SYS-5-RESTART: System restarted --"},
		{"<166>Mar  3 08:15:02 fw %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
			"<166>Mar  3 08:15:02 fw %ASA-6-302016: Teardown UDP connection 2 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9"},
	} {
		f.Add([]byte(pair[0]), []byte(pair[1]))
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	opts := Options{Now: func() time.Time { return testNow }, Zone: func(h string) *time.Location {
		if strings.HasPrefix(h, "b") {
			return berlin
		}
		return nil
	}}
	long := NewParser(opts)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a) > fuzzMaxInput || len(b) > fuzzMaxInput {
			return
		}
		var ev, got, want Event
		long.Parse(a, &ev)
		long.Parse(b, &got)
		fresh := NewParser(opts)
		fresh.Parse(b, &want)
		if want.Kind != KindUnparsed {
			want.Time = uncachedTime(fresh, string(b))
		}
		if got != want {
			t.Errorf("after %q, frame %q:\ncached %+v\nwant   %+v", a, b, got, want)
		}
	})
}

// FuzzFamilies fuzzes message bodies under the tag of every id and mnemonic the templates type
// (the tag chosen by n), so that mutations land in the bodies the templates read rather than in
// the envelope: the same properties as FuzzParse.
func FuzzFamilies(f *testing.F) {
	var tags []string
	for id, c := range asaCoverage {
		tags = append(tags, fmt.Sprintf("<166>Mar  3 08:15:02 fw-a %%%s-%06d: ", c.tag, id))
		f.Add(uint16(len(tags)-1), c.body)
	}
	for _, c := range append(asaRangeCoverage, iosMoreCoverage...) {
		pre := "<166>Mar  3 08:15:02 fw-a %"
		if !strings.HasPrefix(c.tag, "ASA") && !strings.HasPrefix(c.tag, "FTD") && !strings.HasPrefix(c.tag, "NGIPS") {
			pre = "<189>12: rtr: Mar  3 10:00:01.123 CET: %"
		}
		tags = append(tags, pre+c.tag+": ")
		f.Add(uint16(len(tags)-1), c.body)
	}
	for _, c := range iosCoverage {
		tags = append(tags, "<189>12: rtr: Mar  3 10:00:01.123 CET: %"+c.tag+": ")
		f.Add(uint16(len(tags)-1), c.body)
	}
	p := newTestParser()
	f.Fuzz(func(t *testing.T, n uint16, body string) {
		if len(body) > fuzzMaxInput {
			return
		}
		frame := tags[int(n)%len(tags)] + body
		var ev Event
		p.ParseString(frame, &ev)
		checkInvariants(t, "fuzz", &ev)
		if ev.Kind == KindUnparsed {
			t.Errorf("tagged frame unparsed: %q", frame)
		}
		for _, a := range []netip.Addr{ev.Src.Addr, ev.Dst.Addr, ev.Src.MappedAddr, ev.Dst.MappedAddr} {
			if a.IsValid() && !addrInText(frame, a) {
				t.Errorf("address %v is not written in the frame %q", a, frame)
			}
		}
		if ev.Kind == KindTyped && ev.Bytes != ev.SrcBytes+ev.DstBytes && (ev.SrcBytes != 0 || ev.DstBytes != 0) {
			t.Errorf("bytes %d != %d + %d: %q", ev.Bytes, ev.SrcBytes, ev.DstBytes, frame)
		}
		if out := AppendECS(nil, &ev); !json.Valid(out) {
			t.Errorf("AppendECS wrote invalid JSON %s for %q", out, frame)
		}
	})
}
