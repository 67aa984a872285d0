package collector

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/policies"
)

// TestReplayMergesInputsByStamp: lines of several inputs come out in stamp order, each input's
// own order kept (even where it goes back in time), ties to the input named first, lines
// without a stamp in place, and stamps read in each device's zone (asa1 logs in Chicago time,
// the router in UTC: 00:00:30 CST is 06:00:30 UTC).
func TestReplayMergesInputsByStamp(t *testing.T) {
	dir := t.TempDir()
	asa := []string{
		"<166>Nov 03 2026 00:00:10 asa1 : %ASA-6-302013: a1",
		"<166>Nov  3 00:00:20 asa1 %ASA-6-302013: a2", // the other envelope format, same device
		"<166>Nov 03 2026 00:00:20 asa1 : %ASA-6-302013: a3",
		"no stamp at all a4",
		"<166>Nov 03 2026 00:00:40 asa1 : %ASA-6-302013: a5",
		"<166>Nov 03 2026 00:00:35 asa1 : %ASA-6-302013: a6", // back in time: stays after a5
		"<166>Nov 03 2026 00:01:05 asa1 : %ASA-6-302013: a7",
	}
	rtr := []string{
		"<190>Nov  3 06:00:05 rtr-b2 1: Nov  3 06:00:05.100 UTC: %SEC-6-IPACCESSLOGP: r1",
		"<190>Nov  3 06:00:20 rtr-b2 2: Nov  3 06:00:20.000 UTC: %SEC-6-IPACCESSLOGP: r2", // the time of a2 and a3
		"<190>3: rtr-b2: *Nov  3 06:00:30.500 UTC: %SEC-6-IPACCESSLOGP: r3",
		"<190>Nov  3 06:01:00 rtr-b2 4: Nov  3 06:01:00.000 UTC: %SEC-6-IPACCESSLOGP: r4",
	}
	a, r := filepath.Join(dir, "asa1.log"), filepath.Join(dir, "routers.log")
	if err := os.WriteFile(a, []byte(strings.Join(asa, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r, []byte(strings.Join(rtr, "\r\n")+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := policies.Parse("site.yaml", []byte(`site: t
timezone: America/Chicago
devices:
  - name: asa1
    kind: asa
    syslog_sources: [192.0.2.1]
    timezone: America/Chicago
  - name: rtr-b2
    kind: ios
    syslog_sources: [192.0.2.2]
    timezone: UTC
networks:
  - name: lan
    prefixes: [10.0.0.0/8]
    role: workstations
`))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC) }
	out := make(chan *Batch, 16)
	var res IngestResult
	err = readFiles(t.Context(), []string{a, r}, nil, newBatchPool(), out, &res, func(int64) {},
		func() *ciscolog.Parser { return hostParser(cfg, now) })
	close(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for b := range out {
		for i := range b.Len() {
			f, _ := b.Frame(i)
			got = append(got, string(f[strings.LastIndexByte(string(f), ' ')+1:]))
		}
	}
	want := "r1 a1 a2 a3 a4 r2 r3 a5 a6 r4 a7" // r2 ties a2 and a3 (and a4, stampless after a3)
	if g := strings.Join(got, " "); g != want {
		t.Errorf("order\n got %s\nwant %s", g, want)
	}
	if res.Files != 2 || res.Lines != int64(len(asa)+len(rtr)) {
		t.Errorf("files %d lines %d, want 2 and %d", res.Files, res.Lines, len(asa)+len(rtr))
	}
}

// TestReplayMergeLosesNothing: whatever the stamps say (none, absurd years, a clock running
// backwards, garbage), every line of every input comes out once, and each input's lines keep
// their order.
func TestReplayMergeLosesNothing(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 11))
	stamps := []string{
		"<166>Nov 03 2026 00:00:%02d asa1 : %%ASA-6-302013: ", "<166>Dec 31 9999 23:59:%02d asa1 : %%ASA-6-302013: ",
		"<166>Jan  1 00:00:%02d asa1 %%ASA-6-302013: ", "<190>%d: rtr: *Mar  3 10:00:02.234 CET: %%SEC-6-IPACCESSLOGP: ",
		"garbage %d ", "<166>Nov 03 2026 00:00:9%d asa1 : %%ASA-6-302013: ", "<999>%d",
	}
	var names []string
	want := map[string]int{}
	for f := range 3 {
		var b strings.Builder
		for i := range 400 {
			line := fmt.Sprintf(stamps[r.IntN(len(stamps))], r.IntN(60)) + fmt.Sprintf("f%d-%03d", f, i)
			b.WriteString(line + "\n")
			want[line]++
		}
		name := filepath.Join(dir, fmt.Sprintf("in%d.log", f))
		if err := os.WriteFile(name, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	cfg, err := policies.Parse("site.yaml", []byte("site: t\ntimezone: UTC\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC) }
	out := make(chan *Batch, 64)
	var res IngestResult
	err = readFiles(t.Context(), names, nil, newBatchPool(), out, &res, func(int64) {},
		func() *ciscolog.Parser { return hostParser(cfg, now) })
	close(out)
	if err != nil {
		t.Fatal(err)
	}
	next := map[byte]int{} // per input, the next line number it must give
	n := 0
	for b := range out {
		for i := range b.Len() {
			f, _ := b.Frame(i)
			line := string(f)
			want[line]--
			if want[line] < 0 {
				t.Fatalf("%q came out more often than it was written", line)
			}
			tail := line[strings.LastIndexByte(line, 'f'):] // fF-NNN
			var in, num int
			if _, err := fmt.Sscanf(tail, "f%d-%d", &in, &num); err != nil || num != next[byte(in)] {
				t.Fatalf("%q: input %d gave line %d, want %d (its order kept)", line, in, num, next[byte(in)])
			}
			next[byte(in)]++
			n++
		}
	}
	if n != 1200 || res.Lines != 1200 {
		t.Errorf("%d lines out, %d counted, want 1200", n, res.Lines)
	}
}
