package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/detect/report"
	"github.com/firebreak-dev/firebreak/policies"
)

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	if code, _, errOut := runCLI(t, "", "gen", "--days", "3", "--seed", "7", "--lines-per-day", "3000", "--out", gen); code != 0 {
		t.Fatalf("gen: %s", errOut)
	}
	var truth scenario.Truth
	b, err := os.ReadFile(filepath.Join(gen, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	var exfil scenario.Incident
	for _, in := range truth.Incidents {
		if in.Kind == scenario.KindExfiltration {
			exfil = in
		}
	}
	loc, err := time.LoadLocation(truth.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	l := exfil.Start.In(loc)
	at := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc).Format(time.RFC3339)
	common := []string{"--config", filepath.Join(gen, "site.yaml"), "--data-dir", filepath.Join(dir, "data")}
	if code, _, errOut := runCLI(t, "", append([]string{"ingest", filepath.Join(gen, "asa1.log"), filepath.Join(gen, "routers.log")}, common...)...); code != 0 {
		t.Fatalf("ingest: %s", errOut)
	}
	// Detection straight through the package (its command is wired by its own owner).
	cfg, err := policies.Load(filepath.Join(gen, "site.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := stats.Open(t.Context(), filepath.Join(dir, "data"), stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	atT, _ := time.Parse(time.RFC3339, at)
	_, err = detect.Run(t.Context(), &detect.Env{Stats: st, Policy: cfg, Findings: detect.NewStore(st, 0)}, atT, 24*time.Hour)
	st.Close()
	if err != nil {
		t.Fatalf("detect: %v", err)
	}

	out := filepath.Join(dir, "r.json")
	if code, _, errOut := runCLI(t, "", append([]string{"report", "--at", at, "--format", "json", "--out", out}, common...)...); code != 0 {
		t.Fatalf("report: %s", errOut)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Findings.New)+len(d.Findings.Ongoing) == 0 {
		t.Errorf("no findings in the report (note %q)", d.Findings.Note)
	}
	var printers bool
	for _, f := range append(d.Findings.New, d.Findings.Ongoing...) {
		printers = printers || f.Detector == detect.DetectorPrinterEgress
	}
	if !printers {
		t.Error("the planted printer egress is not among the report's findings")
	}
	var marked int
	for _, h := range d.Traffic.Hours {
		if h.Marked {
			marked++
		}
	}
	if marked == 0 || d.Proposals.Note == "proposals are not available to this report" {
		t.Errorf("marked hours %d, proposals note %q", marked, d.Proposals.Note)
	}

	code, html, errOut := runCLI(t, "", append([]string{"report", "--at", at, "--format", "html"}, common...)...)
	if code != 0 || !strings.Contains(html, "<svg") || !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.Contains(html, append(d.Findings.New, d.Findings.Ongoing...)[0].ID) {
		t.Errorf("report --format html: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", append([]string{"report", "--format", "pdf"}, common...)...); code != exitUsage || !strings.Contains(errOut, "is not one of text, markdown, html, json") {
		t.Errorf("report --format pdf: exit %d, %q", code, errOut)
	}
}
