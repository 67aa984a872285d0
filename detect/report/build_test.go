package report

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
)

// exfilReport is the report of the day of the planted exfiltration.
func exfilReport(t *testing.T, f *fixture, src Sources) (*Data, scenario.Incident) {
	t.Helper()
	ex := f.incident(t, scenario.KindExfiltration)
	end := dayEnd(ex.Start, f.cfg.Location())
	src.Store, src.Config = f.st, f.cfg
	d, err := Build(t.Context(), src, Last(end, 24*time.Hour))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return d, ex
}

func TestBuildScenarioSections(t *testing.T) {
	f := scenarioFixture(t)
	d, ex := exfilReport(t, f, Sources{})
	loc := f.cfg.Location()

	t.Run("servers", func(t *testing.T) {
		pe := f.incident(t, "printer_egress")
		var roles []string
		var printsrv *ServerRow
		for _, g := range d.Servers.Groups {
			roles = append(roles, g.Role)
			for i, s := range g.Servers {
				if g.Role == policies.RolePrintServers && s.Name == "printsrv" {
					printsrv = &g.Servers[i]
				}
				if s.Bytes < s.Internal+s.OtherExternal {
					t.Errorf("%s: bytes %d < internal %d + other %d", s.Name, s.Bytes, s.Internal, s.OtherExternal)
				}
			}
		}
		for _, want := range []string{policies.RoleTerminalServers, policies.RoleDMZ, policies.RoleVMHosts, policies.RoleDomainControllers, policies.RolePrintServers} {
			if !slices.Contains(roles, want) {
				t.Errorf("server groups %v lack %s", roles, want)
			}
		}
		if printsrv == nil || len(printsrv.Peers) == 0 {
			t.Fatalf("print server has no external peers: %+v", printsrv)
		}
		if !slices.Contains(pe.Peers, printsrv.Peers[0].Peer) {
			t.Errorf("print server's top peer %s is not a vendor peer %v", printsrv.Peers[0].Peer, pe.Peers)
		}
	})

	t.Run("printers", func(t *testing.T) {
		pe := f.incident(t, "printer_egress")
		if len(d.Printers.Rows) == 0 {
			t.Fatal("no printer rows")
		}
		for _, r := range d.Printers.Rows {
			if !slices.Contains(pe.Hosts, r.Printer) || !slices.Contains(pe.Peers, r.Peer) {
				t.Errorf("printer row %s -> %s not in the planted egress", r.Printer, r.Peer)
			}
			if r.Bytes == 0 || r.Conns == 0 {
				t.Errorf("printer row %+v has no traffic", r)
			}
		}
		if r := d.Printers.Rows[0]; PortLabel(r.Proto, r.Port) != "443/tcp" {
			t.Errorf("top printer port = %s; want 443/tcp", PortLabel(r.Proto, r.Port))
		}
	})

	t.Run("traffic", func(t *testing.T) {
		if len(d.Traffic.Hours) != 24 {
			t.Fatalf("traffic hours = %d; want 24", len(d.Traffic.Hours))
		}
		exHour := ex.Start.In(loc).Truncate(time.Hour)
		var marked []string
		for _, h := range d.Traffic.Hours {
			if h.Marked {
				marked = append(marked, h.Label)
			}
			if h.Start.Equal(exHour) {
				if !h.Marked {
					t.Errorf("exfiltration hour %s not marked: %+v", h.Label, h)
				}
				if h.Bytes < 3*h.DayBefore {
					t.Errorf("exfiltration hour %s: %d bytes vs %d the day before", h.Label, h.Bytes, h.DayBefore)
				}
			}
		}
		if len(marked) == 0 || len(marked) > 6 {
			t.Errorf("marked hours %v; want the incident hours only", marked)
		}
		if d.Traffic.Totals[0] <= d.Traffic.Totals[1] {
			t.Errorf("exfil day total %d not above the day before %d", d.Traffic.Totals[0], d.Traffic.Totals[1])
		}
	})

	t.Run("terms", func(t *testing.T) {
		if d.Terms.Heuristic != "jlh" || len(d.Terms.Fields) != 4 {
			t.Fatalf("terms: %s with %d fields", d.Terms.Heuristic, len(d.Terms.Fields))
		}
		dip := d.Terms.Fields[0]
		if dip.Field != "destination.ip" || dip.FGDocs == 0 || dip.BGDocs < dip.FGDocs {
			t.Fatalf("destination.ip field: %+v", dip)
		}
		var found bool
		for _, r := range dip.Terms {
			found = found || r.Term == ex.Peers[0].String()
			if r.Score <= 0 || r.FG > r.BG {
				t.Errorf("term %+v", r)
			}
		}
		if !found {
			t.Errorf("exfiltration peer %s not among significant destinations %+v", ex.Peers[0], dip.Terms)
		}
	})

	t.Run("nil sources", func(t *testing.T) {
		for name, note := range map[string]string{"findings": d.Findings.Note, "proposals": d.Proposals.Note, "blocks": d.Blocks.Note} {
			if note == "" {
				t.Errorf("%s: no note for a missing source", name)
			}
		}
	})
}

func TestBuildFindingsNewOngoingAndFailures(t *testing.T) {
	f := scenarioFixture(t)
	ex := f.incident(t, scenario.KindExfiltration)
	end := dayEnd(ex.Start, f.cfg.Location())
	w := Last(end, 24*time.Hour)
	mk := func(id string, sev detect.Severity, first, last time.Time) detect.Finding {
		return detect.Finding{ID: id, Severity: sev, FirstSeen: first, LastSeen: last, Detector: detect.DetectorVolumeSpike,
			Subject: detect.Subject{Host: netip.MustParseAddr("10.1.100.33")}}
	}
	all := []detect.Finding{
		mk("new-low", detect.SeverityLow, w.From.Add(time.Hour), w.From.Add(2*time.Hour)),
		mk("new-high", detect.SeverityHigh, w.From.Add(3*time.Hour), w.From.Add(4*time.Hour)),
		mk("ongoing", detect.SeverityMedium, w.From.Add(-48*time.Hour), w.From.Add(time.Hour)),
		mk("old", detect.SeverityCritical, w.From.Add(-48*time.Hour), w.From.Add(-time.Hour)),
		mk("future", detect.SeverityCritical, w.To, w.To.Add(time.Hour)),
	}
	src := Sources{
		Store: f.st, Config: f.cfg, Now: func() time.Time { return end.Add(time.Minute) },
		Findings:  func(context.Context, Window) ([]detect.Finding, error) { return all, nil },
		Proposals: func(context.Context) ([]ProposalView, error) { return nil, errors.New("proposal store down") },
		Blocks: func(_ context.Context, at time.Time) ([]BlockView, error) {
			return []BlockView{{ID: "p-1", Target: "203.0.113.9", AppliedAt: at.Add(-50 * time.Hour)}}, nil
		},
	}
	d, err := Build(t.Context(), src, w)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(fs []detect.Finding) []string {
		var s []string
		for _, f := range fs {
			s = append(s, f.ID)
		}
		return s
	}
	if got := ids(d.Findings.New); !slices.Equal(got, []string{"new-high", "new-low"}) {
		t.Errorf("new = %v; want [new-high new-low]", got)
	}
	if got := ids(d.Findings.Ongoing); !slices.Equal(got, []string{"ongoing"}) {
		t.Errorf("ongoing = %v; want [ongoing]", got)
	}
	if d.Proposals.Note == "" || len(d.Proposals.Pending) != 0 {
		t.Errorf("failed proposals source: %+v", d.Proposals)
	}
	if len(d.Blocks.Active) != 1 || d.Blocks.Active[0].Age.String() != "2d2h" {
		t.Errorf("blocks = %+v; want one, 2d2h old", d.Blocks.Active)
	}
	if !d.GeneratedAt.Equal(end.Add(time.Minute)) {
		t.Errorf("GeneratedAt = %s", d.GeneratedAt)
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	if _, err := Build(t.Context(), Sources{}, Last(time.Now(), time.Hour)); err == nil {
		t.Error("Build without a store succeeded")
	}
	f := scenarioFixture(t)
	if _, err := Build(t.Context(), Sources{Store: f.st, Config: f.cfg}, Window{From: f.truth.End, To: f.truth.End}); err == nil {
		t.Error("Build of an empty window succeeded")
	}
}

func TestAge(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{59 * time.Second, "1m"}, {45 * time.Minute, "45m"}, {5*time.Hour + 20*time.Minute, "5h20m"}, {76 * time.Hour, "3d4h"}} {
		if got := Age(c.d).String(); got != c.want {
			t.Errorf("Age(%s) = %q; want %q", c.d, got, c.want)
		}
	}
}
