package report

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// fixture is a generated 3-day scenario ingested into a real store, shared by the tests
// (the store is safe for concurrent use and the tests only read it).
type fixture struct {
	dir   string
	cfg   *policies.Config
	st    *stats.Store
	truth scenario.Truth
	files scenario.Files
	// archive is a raw archive of the scenario's lines, filed by their own time as the daemon
	// files what it receives live.
	archive string
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
	fixDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fix != nil {
		fix.st.Close()
	}
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

func scenarioFixture(t testing.TB) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		fixDir, fixErr = os.MkdirTemp("", "report-test-")
		if fixErr != nil {
			return
		}
		fix, fixErr = buildFixture(context.Background(), fixDir)
	})
	if fixErr != nil {
		t.Fatalf("scenario fixture: %v", fixErr)
	}
	return fix
}

func buildFixture(ctx context.Context, dir string) (*fixture, error) {
	files, err := scenario.WriteDir(ctx, scenario.Config{Seed: 7, Days: 3, LinesPerDay: 4000}, filepath.Join(dir, "scenario"))
	if err != nil {
		return nil, err
	}
	cfg, err := policies.Load(files.Policy)
	if err != nil {
		return nil, err
	}
	end := files.Result.End
	clock := func() time.Time { return end }
	st, err := stats.Open(ctx, filepath.Join(dir, "data"), stats.Options{Now: clock})
	if err != nil {
		return nil, err
	}
	p := collector.NewPipeline(collector.PipelineOptions{Config: cfg, Store: st, Now: clock})
	if _, err := collector.Ingest(ctx, []string{files.ASA, files.Routers}, nil, p, nil); err != nil {
		st.Close()
		return nil, err
	}
	archive := filepath.Join(dir, "raw")
	if err := writeArchive(ctx, cfg, archive, end, files.ASA, files.Routers); err != nil {
		st.Close()
		return nil, err
	}
	return &fixture{dir: dir, cfg: cfg, st: st, truth: files.Result, files: files, archive: archive}, nil
}

// archiveParser reads lines as the drill-down does: the device's zone by its hostname.
func archiveParser(cfg *policies.Config, now time.Time) *ciscolog.Parser {
	return ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return now }, MaxFrame: collector.MaxLine,
		Zone: func(host string) *time.Location {
			if d, ok := cfg.DeviceByName(host); ok {
				return d.Location()
			}
			return cfg.Location()
		}})
}

// writeArchive files every line of the logs in a raw archive at dir under its own time.
func writeArchive(ctx context.Context, cfg *policies.Config, dir string, now time.Time, logs ...string) error {
	a, err := collector.OpenArchive(dir)
	if err != nil {
		return err
	}
	p := archiveParser(cfg, now)
	var ev ciscolog.Event
	for _, name := range logs {
		r, err := collector.OpenLog(name, nil)
		if err != nil {
			return err
		}
		sc := collector.NewLineScanner(r, collector.MaxLine)
		for {
			if _, ok := sc.Next(ctx); !ok {
				break
			}
			p.Parse(sc.Line(), &ev)
			if ev.Time.IsZero() {
				continue
			}
			if err := a.Write(ev.Time, sc.Line()); err != nil {
				r.Close()
				return err
			}
		}
		r.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	return a.Close()
}

// incident returns the planted incident of a kind.
func (f *fixture) incident(t testing.TB, kind string) scenario.Incident {
	t.Helper()
	for _, in := range f.truth.Incidents {
		if in.Kind == kind {
			return in
		}
	}
	t.Fatalf("scenario has no %s incident", kind)
	return scenario.Incident{}
}

// dayEnd is the local midnight after t.
func dayEnd(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
}
