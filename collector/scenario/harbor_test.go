package scenario

import (
	"bufio"
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/policies"
)

// TestHarborLinesParse generates a short harbor run and parses every line: each is typed, names
// its device, and its time (in the envelope's own form: offset, zone abbreviation or UTC)
// matches the ISO stamp rendering of the same instant.
func TestHarborLinesParse(t *testing.T) {
	var asa, rtr bytes.Buffer
	truth, err := Generate(t.Context(), Config{Profile: ProfileHarbor, Seed: 2, Days: 3, LinesPerDay: 4000}, Writers{ASA: &asa, Routers: &rtr})
	if err != nil {
		t.Fatal(err)
	}
	if truth.Profile != ProfileHarbor || len(truth.Decoys) < 14 || len(truth.Incidents) < 9 {
		t.Fatalf("truth: profile %q, %d decoys, %d incidents", truth.Profile, len(truth.Decoys), len(truth.Incidents))
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return truth.End }, Zone: func(string) *time.Location { return berlin }})
	iso := regexp.MustCompile(`^<\d+>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d) `)
	n, checked := 0, 0
	for dev, buf := range map[string]*bytes.Buffer{"fw-hq": &asa, "gw-north": &rtr} {
		sc := bufio.NewScanner(buf)
		for sc.Scan() {
			line := sc.Text()
			n++
			var ev ciscolog.Event
			p.ParseString(line, &ev)
			if ev.Kind != ciscolog.KindTyped || ev.Host != dev || ev.Time.IsZero() {
				t.Fatalf("kind %v host %q time %v: %s", ev.Kind, ev.Host, ev.Time, line)
			}
			if ev.Time.Before(truth.Start) || ev.Time.After(truth.End.Add(48*time.Hour)) {
				t.Fatalf("time %v outside the run: %s", ev.Time, line)
			}
			if m := iso.FindStringSubmatch(line); m != nil {
				want, _ := time.Parse(time.RFC3339, m[1])
				if !ev.Time.Equal(want) {
					t.Fatalf("time %v, want %v: %s", ev.Time, want, line)
				}
				checked++
			}
		}
	}
	if n == 0 || checked == 0 {
		t.Fatalf("%d lines, %d checked", n, checked)
	}
	if _, err := policies.Parse("site.yaml", harborPolicy()); err != nil {
		t.Fatalf("harbor policy: %v", err)
	}
	t.Logf("%d lines typed (%d ISO stamps checked)", n, checked)
}
