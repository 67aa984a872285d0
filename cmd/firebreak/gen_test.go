package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
)

// gen --send --duration sends rate × duration datagrams of generated syslog from memory.
func TestGenSendDuration(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.(*net.UDPConn).SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	const want = 2000 // 20,000/s for 100 ms
	got := make(chan []string, 1)
	go func() { // ends at want datagrams or the read deadline
		var out []string
		buf := make([]byte, 4096)
		_ = pc.SetReadDeadline(time.Now().Add(20 * time.Second))
		for len(out) < want {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			out = append(out, string(buf[:n]))
		}
		got <- out
	}()
	code, out, errOut := runCLI(t, "", "gen", "--days", "1", "--lines-per-day", "3000", "--send", "udp://"+pc.LocalAddr().String(),
		"--rate", "20000", "--duration", "100ms")
	if code != 0 {
		t.Fatalf("gen: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "sent 2000 lines") {
		t.Errorf("gen output %q, want sent 2000 lines", out)
	}
	recv := <-got
	if len(recv) != want {
		t.Fatalf("received %d of %d datagrams", len(recv), want)
	}
	distinct := map[string]bool{}
	for _, d := range recv {
		if !strings.HasPrefix(d, "<") || strings.ContainsAny(d, "\r\n") {
			t.Fatalf("datagram %q is not one syslog line", d)
		}
		distinct[d] = true
	}
	if len(distinct) < want/2 {
		t.Errorf("%d distinct lines in %d datagrams", len(distinct), want)
	}
}

func TestGenDurationRefusals(t *testing.T) {
	for _, args := range [][]string{
		{"gen", "--days", "1", "--duration", "1s", "--out", t.TempDir()},                            // no --send
		{"gen", "--days", "1", "--send", "udp://192.0.2.1:514", "--rate", "10", "--duration", "1s"}, // not loopback
	} {
		if code, _, _ := runCLI(t, "", args...); code == 0 {
			t.Errorf("%v: exit 0, want a refusal", args)
		}
	}
}

// TestScenarioStartInSiteZone: gen's default scenario ends at the site's last midnight, also
// in the hours when the machine's (UTC) date is already the next day; the README tour's
// `detect` (window ending now) relies on it.
func TestScenarioStartInSiteZone(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 44, 0, 0, time.UTC) // Dec 3 18:44 in Chicago, Dec 4 01:44 in Berlin
	for _, tc := range []struct {
		profile string
		want    string
	}{
		{scenario.ProfileClinic, "2026-11-03"},
		{scenario.ProfileHarbor, "2026-11-04"},
	} {
		got, err := scenarioStart(scenario.Config{Profile: tc.profile, Days: 30}, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Format(time.DateOnly) != tc.want {
			t.Errorf("%s: start %s, want %s", tc.profile, got.Format(time.DateOnly), tc.want)
		}
	}
	if _, err := scenarioStart(scenario.Config{Profile: "nope"}, now); err == nil {
		t.Error("an unknown profile gave a start")
	}
}
