// Package scoring scores detection and proposals end to end on the generator's site profiles:
// generate, ingest into a real store, detect every day with a findings store, propose, and
// compare with truth.json's incidents and decoys.
package scoring

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

// score is one profile × seed.
type score struct {
	profile          string
	seed             uint64
	days             int
	incidents, found int
	findings, about  int
	decoysFlagged    int
	harmful          int
	blocks           int
	perIncident30    float64
	took             time.Duration
	problems         []string
}

func (s score) row() string {
	return fmt.Sprintf("| %-6s | %4d | %4d | %d/%d | %3d | %5.1f %% | %d | %d | %d | %.2f |",
		s.profile, s.seed, s.days, s.found, s.incidents, s.findings, 100*float64(s.about)/float64(max(1, s.findings)),
		s.decoysFlagged, s.blocks, s.harmful, s.perIncident30)
}

const header = "| profile | seed | days | recall | findings | about an incident | decoys flagged | blocks | harmful | per incident per 30 d |"

// TestScoreProfiles runs both profiles with one seed each; FIREBREAK_SCORE_SEEDS=all runs
// three seeds per profile, FIREBREAK_SCORE_LINES=0 at the generator's default volume. Every run must meet the bar: recall 100 % by the detector
// the truth names, at least 90 % of findings about an incident, no decoy flagged, no harmful
// proposal, at most 3 findings per incident per 30 days.
func TestScoreProfiles(t *testing.T) {
	seeds := []uint64{1}
	if os.Getenv("FIREBREAK_SCORE_SEEDS") == "all" {
		seeds = []uint64{1, 2, 3}
	}
	var rows []string
	for _, profile := range scenario.Profiles {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/%d", profile, seed), func(t *testing.T) {
				s := run(t, profile, seed)
				rows = append(rows, s.row())
				for _, p := range s.problems {
					t.Log(p)
				}
				if s.found != s.incidents {
					t.Errorf("recall %d/%d", s.found, s.incidents)
				}
				if float64(s.about) < 0.9*float64(s.findings) {
					t.Errorf("%d of %d findings about an incident (< 90 %%)", s.about, s.findings)
				}
				if s.decoysFlagged > 0 {
					t.Errorf("%d decoys flagged", s.decoysFlagged)
				}
				if s.harmful > 0 {
					t.Errorf("%d harmful proposals", s.harmful)
				}
				if s.perIncident30 > 3 {
					t.Errorf("%.2f findings per incident per 30 days (> 3)", s.perIncident30)
				}
			})
		}
	}
	t.Logf("\n%s\n%s", header, strings.Join(rows, "\n"))
}

// linesPerDay keeps the default run small; FIREBREAK_SCORE_LINES=N scores at N lines a
// weekday (0: the generator's default volume).
func linesPerDay(profile string) int {
	if v, ok := os.LookupEnv("FIREBREAK_SCORE_LINES"); ok {
		n, err := strconv.Atoi(v)
		if err == nil && n >= 0 {
			return n
		}
	}
	if profile == scenario.ProfileHarbor {
		return 6000
	}
	return 8000
}

func run(t *testing.T, profile string, seed uint64) score {
	ctx := t.Context()
	began := time.Now()
	cfg := scenario.Config{Profile: profile, Seed: seed, LinesPerDay: linesPerDay(profile)}
	var asa, rtr bytes.Buffer
	truth, err := scenario.Generate(ctx, cfg, scenario.Writers{ASA: &asa, Routers: &rtr})
	if err != nil {
		t.Fatal(err)
	}
	polYAML, err := scenario.PolicyFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policies.Parse("site.yaml", polYAML)
	if err != nil {
		t.Fatal(err)
	}
	end := truth.End
	now := func() time.Time { return end }
	st, err := stats.Open(ctx, filepath.Join(t.TempDir(), "data"), stats.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := feed(ctx, pol, st, now, asa.Bytes(), rtr.Bytes()); err != nil {
		t.Fatal(err)
	}
	fstore := detect.NewStore(st, 0)
	env := &detect.Env{Stats: st, Policy: pol, Findings: fstore, Now: now}
	loc := pol.Location()
	first := truth.Start.AddDate(0, 0, 7)
	first = time.Date(first.In(loc).Year(), first.In(loc).Month(), first.In(loc).Day(), 0, 0, 0, 0, loc)
	type runF struct {
		f detect.Finding
		w detect.TimeRange
	}
	var runs []runF
	for at := first; !at.After(truth.End); at = at.AddDate(0, 0, 1) {
		res, err := detect.Run(ctx, env, at, 24*time.Hour)
		if err != nil {
			t.Fatalf("detect %s: %v", at, err)
		}
		for _, u := range res.Findings {
			runs = append(runs, runF{u.Finding, res.Window})
		}
	}
	stored, err := fstore.List(ctx, detect.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	s := score{profile: profile, seed: seed, days: truth.Days, incidents: len(truth.Incidents), findings: len(stored)}
	for _, in := range truth.Incidents {
		ok := false
		for _, r := range runs {
			if r.f.Detector == in.Detector && matches(r.f, r.w, in) {
				ok = true
				break
			}
		}
		if ok {
			s.found++
		} else {
			s.problems = append(s.problems, fmt.Sprintf("missed %s (%s) by %s", in.ID, in.Kind, in.Detector))
		}
	}
	for _, f := range stored {
		// Stored times come from hourly buckets: judge the hours they name.
		w := detect.TimeRange{From: f.FirstSeen.Truncate(time.Hour), To: f.LastSeen.Add(time.Hour)}
		about := false
		for _, in := range truth.Incidents {
			if matches(f, w, in) {
				about = true
				break
			}
		}
		if about {
			s.about++
			continue
		}
		what := "not about an incident"
		for _, d := range truth.Decoys {
			if aboutDecoy(f, w, d) {
				s.decoysFlagged++
				what = "decoy " + d.ID
				break
			}
		}
		s.problems = append(s.problems, fmt.Sprintf("%s: %s [%s] %s", what, f.Key, f.Severity, f.Title))
	}
	s.perIncident30 = float64(len(stored)) / float64(max(1, len(truth.Incidents))) * 30 / float64(truth.Days)

	m := remediate.New(st, pol, remediate.Options{Now: now})
	if _, err := m.Propose(ctx, "score", stored, nil); err != nil {
		t.Fatal(err)
	}
	props, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vpn, err := st.VPNSources(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range props {
		if (p.Kind != remediate.KindBlock && p.Kind != remediate.KindQuarantine) || p.State == remediate.StateRejected {
			continue
		}
		s.blocks++
		if why := harm(p.Target, pol, vpn, truth); why != "" {
			s.harmful++
			s.problems = append(s.problems, fmt.Sprintf("harmful %s %s %s: %s", p.ID, p.Kind, p.Target, why))
		}
	}
	s.took = time.Since(began)
	return s
}

// harm says why a block or quarantine of target is harmful, or "".
func harm(target netip.Prefix, pol *policies.Config, vpn []stats.VPNSource, truth scenario.Truth) string {
	a := target.Addr()
	if svc, ok := pol.ServiceOverlaps(target); ok {
		return "known service " + svc.Name
	}
	if pol.ProtectedOverlaps(target) || pol.IsProtected(a) {
		return "protected"
	}
	for _, v := range vpn {
		if target.Contains(v.Src) {
			return "VPN source of " + v.User
		}
	}
	for _, d := range truth.Decoys {
		if slices.Contains(d.Hosts, a) || slices.Contains(d.Peers, a) {
			return "decoy " + d.ID
		}
	}
	return ""
}

// matches says whether finding f (seen over w) is about incident in: a detector the truth
// names for it, an overlapping time, and a shared address, user or port term.
func matches(f detect.Finding, w detect.TimeRange, in scenario.Incident) bool {
	if f.Detector != in.Detector && !slices.Contains(in.Also, f.Detector) {
		return false
	}
	if !(w.From.Before(in.End.Add(time.Minute)) && in.Start.Before(w.To)) {
		return false
	}
	return namesAny(f, in.Hosts, in.Peers, in.User, in.Ports)
}

func aboutDecoy(f detect.Finding, w detect.TimeRange, d scenario.Decoy) bool {
	if !(w.From.Before(d.End.Add(time.Minute)) && d.Start.Before(w.To)) {
		return false
	}
	return namesAny(f, d.Hosts, d.Peers, d.User, nil)
}

func namesAny(f detect.Finding, hosts, peers []netip.Addr, user string, ports []string) bool {
	has := func(a netip.Addr) bool {
		return a.IsValid() && (slices.Contains(hosts, a) || slices.Contains(peers, a))
	}
	if user != "" && f.Subject.User == user {
		return true
	}
	if has(f.Subject.Host) || has(f.Subject.Peer) {
		return true
	}
	if !f.Subject.Host.IsValid() && !f.Subject.Peer.IsValid() && f.Subject.Port != 0 {
		p := policies.Port{Proto: f.Subject.Proto, Num: f.Subject.Port}
		if slices.Contains(ports, p.String()) {
			return true
		}
	}
	for _, r := range f.Evidence.TopHosts {
		if a, err := netip.ParseAddr(r.Key); err == nil && has(a) {
			return true
		}
	}
	return false
}

type classifier struct{ c *policies.Config }

func (c classifier) Internal(a netip.Addr) bool { return c.c.IsInternal(a) }
func (c classifier) Segment(a netip.Addr) string {
	s, _ := c.c.Segment(a)
	return s
}

// feed parses the logs with the devices' zones and aggregates them into st.
func feed(ctx context.Context, cfg *policies.Config, st *stats.Store, now func() time.Time, logs ...[]byte) error {
	agg := stats.NewAggregator(classifier{cfg}, stats.AggOptions{Now: now})
	pr := ciscolog.NewParser(ciscolog.Options{Now: now, Zone: func(host string) *time.Location {
		if d, ok := cfg.DeviceByName(host); ok {
			return d.Location()
		}
		return cfg.Location()
	}})
	var ev ciscolog.Event
	n := 0
	for _, data := range logs {
		for len(data) > 0 {
			line := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			if len(line) == 0 {
				continue
			}
			pr.Parse(line, &ev)
			n++
			if agg.Add(&ev) || n%50000 == 0 {
				if _, err := agg.Flush(ctx, st); err != nil {
					return err
				}
			}
		}
	}
	_, err := agg.Flush(ctx, st)
	return err
}
