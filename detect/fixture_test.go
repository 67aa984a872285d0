package detect

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// scenarioFixture is one generated 30-day scenario ingested into a real buntdb store, shared by
// the tests of this binary (generating and ingesting takes a few seconds).
type scenarioFixture struct {
	dir   string
	truth scenario.Truth
	cfg   *policies.Config
	st    *stats.Store
	err   error
}

var (
	fixOnce sync.Once
	fix     scenarioFixture
)

const fixtureLinesPerDay = 8000

func TestMain(m *testing.M) {
	code := m.Run()
	if fix.st != nil {
		fix.st.Close()
	}
	if fix.dir != "" {
		os.RemoveAll(fix.dir)
	}
	os.Exit(code)
}

// loadScenario returns the shared scenario store, building it on first use.
func loadScenario(tb testing.TB) *scenarioFixture {
	tb.Helper()
	fixOnce.Do(func() { fix.err = fix.build() })
	if fix.err != nil {
		tb.Fatalf("scenario fixture: %v", fix.err)
	}
	return &fix
}

func (f *scenarioFixture) build() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "detect-scenario-")
	if err != nil {
		return err
	}
	f.dir = dir
	var asa, rtr bytes.Buffer
	f.truth, err = scenario.Generate(ctx, scenario.Config{Seed: 7, Days: 30, LinesPerDay: fixtureLinesPerDay}, scenario.Writers{ASA: &asa, Routers: &rtr})
	if err != nil {
		return err
	}
	pol, err := scenario.DefaultSite().Policy()
	if err != nil {
		return err
	}
	f.cfg, err = policies.Parse("site.yaml", pol)
	if err != nil {
		return err
	}
	end := f.truth.End
	now := func() time.Time { return end }
	f.st, err = stats.Open(ctx, filepath.Join(dir, "data"), stats.Options{Now: now})
	if err != nil {
		return err
	}
	// Both device logs, merged in time order is not needed: counters add up in any order.
	return feed(ctx, f.cfg, f.st, now, asa.Bytes(), rtr.Bytes())
}

// classifier adapts the site policy to the aggregator.
type classifier struct{ c *policies.Config }

func (c classifier) Internal(a netip.Addr) bool { return c.c.IsInternal(a) }
func (c classifier) Segment(a netip.Addr) string {
	s, _ := c.c.Segment(a)
	return s
}

// feed parses the newline-separated syslog in each log with the devices' time zones and
// aggregates it into st, flushing every 50,000 lines (as the collector would every second).
func feed(ctx context.Context, cfg *policies.Config, st *stats.Store, now func() time.Time, logs ...[]byte) error {
	agg := stats.NewAggregator(classifier{cfg}, stats.AggOptions{Now: now, MaxLateness: 2 * time.Hour}) // as the pipeline
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

// env returns a detection environment over the fixture without a findings store.
func (f *scenarioFixture) env() *Env {
	return &Env{Stats: f.st, Policy: f.cfg}
}

// incidentAddrs is every address an incident names.
func incidentAddrs(in scenario.Incident) map[netip.Addr]bool {
	m := make(map[netip.Addr]bool)
	for _, a := range in.Hosts {
		m[a] = true
	}
	for _, a := range in.Peers {
		m[a] = true
	}
	return m
}

// matches says whether finding f (of a run over w) is about incident in: a detector the
// truth names for it, an overlapping time, and a shared address or user.
func matches(f Finding, w TimeRange, in scenario.Incident) bool {
	if f.Detector != in.Detector && !slices.Contains(in.Also, f.Detector) {
		return false
	}
	if !(w.From.Before(in.End.Add(time.Minute)) && in.Start.Before(w.To)) {
		return false
	}
	addrs := incidentAddrs(in)
	if in.User != "" && f.Subject.User == in.User {
		return true
	}
	if addrs[f.Subject.Host] || addrs[f.Subject.Peer] {
		return true
	}
	if !f.Subject.Host.IsValid() && !f.Subject.Peer.IsValid() && f.Subject.Port != 0 &&
		slices.Contains(in.Ports, portString(f.Subject.Proto, f.Subject.Port)) {
		return true // a port term names no address
	}
	for _, r := range f.Evidence.TopHosts {
		if a, err := netip.ParseAddr(r.Key); err == nil && addrs[a] {
			return true
		}
	}
	return false
}

// runDays runs every detector over each day ending at a midnight from first to last
// (inclusive) and returns the findings of each run with its window.
type runFinding struct {
	Finding
	W TimeRange
}

func runDays(tb testing.TB, env *Env, first, last time.Time) []runFinding {
	tb.Helper()
	var out []runFinding
	for at := first; !at.After(last); at = at.AddDate(0, 0, 1) {
		res, err := Run(context.Background(), env, at, 24*time.Hour)
		if err != nil {
			tb.Fatalf("Run(%s): %v", at, err)
		}
		for _, u := range res.Findings {
			out = append(out, runFinding{u.Finding, res.Window})
		}
	}
	return out
}
