package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/detect/report"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

func (a *app) demoCmd() *cobra.Command {
	var (
		dir         string
		days        int
		linesPerDay int
		seed        uint64
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole loop on a synthetic clinic and a fake ASA, in a temporary folder",
		Long: `demo shows the whole loop in about a minute, with nothing but this binary: it generates a
30-day scenario of a clinic's ASA and 2921 syslog with planted incidents, ingests it, runs the
detections, turns findings into proposals, starts a fake ASA over real SSH on 127.0.0.1, shows
the dry-run diff of the top proposals, approves and pushes one with verification, writes the
HTML report, and prints where everything is and what to try next. Nothing leaves this machine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.daemon != nil {
				return errors.New("demo cannot run inside the daemon")
			}
			if f := cmd.Flag("log-level"); f == nil || !f.Changed {
				a.logLevel.Set(slog.LevelWarn) // the steps say what happens; session logs would drown them
			}
			if dir == "" {
				d, err := os.MkdirTemp("", "firebreak-demo-")
				if err != nil {
					return err
				}
				dir = d
			}
			return a.demo(cmd.Context(), dir, scenario.Config{Seed: seed, Days: days, LinesPerDay: linesPerDay})
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder for the demo's files (default: a new temporary folder)")
	cmd.Flags().IntVar(&days, "days", 30, "days of generated traffic")
	cmd.Flags().IntVar(&linesPerDay, "lines-per-day", 20000, "lines on a working weekday")
	cmd.Flags().Uint64Var(&seed, "seed", 7, "scenario seed")
	return cmd
}

// demoStep prints a numbered step header and, when done is called, how long it took.
type demoStep struct {
	a     *app
	n     int
	began time.Time
}

func (s *demoStep) start(title string) {
	s.n++
	s.began = time.Now()
	fmt.Fprintf(s.a.stdout, "\n== %d. %s\n", s.n, title)
}

func (s *demoStep) done(format string, args ...any) {
	fmt.Fprintf(s.a.stdout, "   "+format+" (%s)\n", append(args, time.Since(s.began).Round(time.Millisecond))...)
}

func (a *app) demo(ctx context.Context, dir string, sc scenario.Config) error {
	total := time.Now()
	step := &demoStep{a: a}
	fmt.Fprintf(a.stdout, "firebreak demo in %s\n", dir)

	// 1. Scenario.
	step.start("Generate a 30-day clinic: one ASA 5510, two 2921s, planted incidents")
	sc.Start = time.Now().AddDate(0, 0, -max(sc.Days, 1)) // end today: hourly statistics stay in retention
	files, err := scenario.WriteDir(ctx, sc, dir)
	if err != nil {
		return err
	}
	lines := files.Result.Lines[0] + files.Result.Lines[1]
	step.done("%d syslog lines, %d planted incidents -> %s, %s", lines, len(files.Result.Incidents), filepath.Base(files.ASA), filepath.Base(files.Routers))

	// 2. Fake ASA over real SSH, and the policy pointing at it.
	step.start("Start a fake ASA over SSH on 127.0.0.1 and point the site policy at it")
	user, pass, enable := "firebreak", randomSecret(), randomSecret()
	asa, err := fakeasa.New(fakeasa.Config{RunningConfig: string(scenario.DefaultSite().ASAConfig()), User: user, Password: pass, EnableSecret: enable})
	if err != nil {
		return err
	}
	addr, err := asa.Start()
	if err != nil {
		return err
	}
	defer asa.Close()
	policyPath, err := demoPolicy(files.Policy, addr, filepath.Join(dir, "known_hosts"), asa)
	if err != nil {
		return err
	}
	// The policy names environment variables, never secrets; set them for this process only.
	os.Setenv("FIREBREAK_ASA_PASSWORD", pass)
	os.Setenv("FIREBREAK_ASA_ENABLE", enable)
	cfg, err := policies.Load(policyPath)
	if err != nil {
		return err
	}
	step.done("fake asa1 at %s, host key pinned in known_hosts", addr)

	// 3. Ingest.
	step.start("Ingest the syslog into the statistics database (the same pipeline as live traffic)")
	st, err := stats.Open(ctx, cfg.Collector.DataDir, storeOptions(cfg, time.Now))
	if err != nil {
		return err
	}
	defer st.Close()
	p := collector.NewPipeline(collector.PipelineOptions{Config: cfg, Store: st, Log: a.log, Now: time.Now, FlushEvery: 5 * time.Second})
	res, err := collector.Ingest(ctx, []string{files.ASA, files.Routers}, nil, p, nil)
	if err != nil {
		return err
	}
	ps := p.Status()
	step.done("%d lines: %d typed, %d header-only, %d unparsed; database %s", res.Lines, ps.Typed, ps.Header, ps.Unparsed, cfg.Collector.DataDir)

	// 4. Detect day by day over the scenario, as the daemon's schedule would have.
	step.start("Run the detections over every day of the scenario")
	end := files.Result.End
	findings := detect.NewStore(st, time.Duration(cfg.Retention.Findings))
	env := &detect.Env{Stats: st, Policy: cfg, Log: a.log, Findings: findings}
	for d := files.Result.Days - 1; d >= 0; d-- {
		if _, err := detect.Run(ctx, env, end.AddDate(0, 0, -d), 24*time.Hour); err != nil && !errors.Is(err, detect.ErrDetectors) {
			return err
		}
	}
	all, err := findings.List(ctx, detect.Filter{})
	if err != nil {
		return err
	}
	byDetector := map[string]int{}
	for _, f := range all {
		byDetector[f.Detector]++
	}
	found := 0
	for _, inc := range files.Result.Incidents {
		if incidentFound(inc, all) {
			found++
		}
	}
	step.done("%d findings (%s); %d of the %d planted incidents found by the detector truth.json names",
		len(all), countsString(byDetector), found, len(files.Result.Incidents))
	for _, f := range onePerDetector(all) {
		fmt.Fprintf(a.stdout, "   %-8s %-9s %-18s %s\n", f.ID, f.Severity, f.Detector, display.Text(f.Title))
	}

	// 5. Proposals.
	step.start("Turn findings into proposed ASA changes (protected hosts are refused)")
	m := a.manager(cfg, st)
	running, err := m.Running(ctx, "asa1")
	if err != nil {
		return err
	}
	runCfg, err := asaconfig.Parse([]byte(running))
	if err != nil {
		return err
	}
	// With the device's config the data-path model judges each change now:
	// one that would not drop its finding's flows is stored as ineffective.
	if _, err := m.Propose(ctx, a.user, all, runCfg); err != nil {
		return err
	}
	props, err := m.List(ctx)
	if err != nil {
		return err
	}
	var blocks []remediate.Proposal
	for _, pr := range props {
		if pr.Kind == remediate.KindBlock && pr.State == remediate.StateProposed {
			blocks = append(blocks, pr)
		}
	}
	// Show the exfiltration-like block first (a workstation opening tcp/4444 to one peer:
	// the deny goes where its flows enter the ASA). Scanners whose probes the ACL already
	// denies are not among them: those blocks are stored as ineffective.
	slices.SortStableFunc(blocks, func(x, y remediate.Proposal) int { return blockRank(x) - blockRank(y) })
	kinds := map[string]int{}
	var changes []remediate.Proposal // what would touch the device; advisories are only counted
	ineffective := 0
	for _, pr := range props {
		kinds[string(pr.Kind)]++
		if pr.Effect != nil && pr.Effect.Ineffective != "" {
			ineffective++
		}
		if pr.Kind != remediate.KindAdvisory {
			changes = append(changes, pr)
		}
	}
	step.done("%d proposals (%s); %d stored as ineffective by the data-path model", len(props), countsString(kinds), ineffective)
	a.printList(changes)
	if len(blocks) == 0 {
		return errors.New("demo: no block proposal to show")
	}

	// 6. Dry runs.
	step.start("Dry run: the diff against the device's running config and the exact CLI lines")
	for _, pr := range blocks[:min(2, len(blocks))] {
		dr, err := m.Diff(ctx, pr.ID, running)
		if err != nil {
			return err
		}
		a.printDryRun(pr, dr)
	}
	step.done("nothing was sent")

	// 7. Approve and push one, with a live connection of its flows open on the device.
	target := blocks[0]
	var live []fakeasa.Flow
	for _, f := range target.Flows {
		ff := fakeasa.Flow{Interface: f.Ingress, Proto: datapath.ProtoName(f.Proto), Src: f.Src, Dst: f.Dst, SrcPort: f.SrcPort, DstPort: f.DstPort}
		if ff.Interface == "" || asa.Open(ff) != nil {
			continue
		}
		live = append(live, ff)
	}
	step.start(fmt.Sprintf("Approve %s and push it over SSH (%d of its flows live on the device), verify, packet-tracer, write memory", target.ID, len(live)))
	if _, _, err := m.Approve(ctx, target.ID, a.user, "approved in the demo", running); err != nil {
		return err
	}
	pushed, err := m.Push(ctx, target.ID, a.user)
	if err != nil {
		return err
	}
	for _, w := range pushed.Warnings {
		fmt.Fprintf(a.stdout, "   warning: %s\n", w)
	}
	for _, t := range pushed.Proposal.Verification {
		fmt.Fprintf(a.stdout, "   %s\n", t)
		fmt.Fprintf(a.stdout, "     (%s)\n", t.Command)
	}
	step.done("%s is %s; the device dropped each finding flow by the planned rule (packet-tracer)", pushed.Proposal.ID, pushed.Proposal.State)

	// 8. Feedback: the finding's traffic meets the ACE that matches it.
	step.start("Feedback: does the block work?")
	for _, ff := range live {
		for i := range 5 {
			ff.SrcPort = uint16(41000 + i)
			if _, err := asa.Send(ff); err != nil {
				return err
			}
		}
	}
	fb, err := m.Feedback(ctx, target.ID)
	if err != nil {
		return err
	}
	step.done("%d hits on the deny that matches the finding's flows for %s in `show access-list %s`; %d connection(s) left after clear conn",
		fb.Hits, fb.Target, fb.ACL, fb.Conns)

	// 9. Report.
	step.start("Write the HTML report")
	reportPath := filepath.Join(dir, "report.html")
	d, err := report.Build(ctx, a.reportSources(cfg, st), report.Last(end, 24*time.Hour))
	if err != nil {
		return err
	}
	if err := writeFileAtomic(reportPath, d.WriteHTML); err != nil {
		return err
	}
	step.done("%s", reportPath)

	c := "--config " + policyPath
	fmt.Fprintf(a.stdout, `
Done in %s. Everything is in %s:
  site.yaml            the site policy (networks, roles, flows, thresholds); demo-site.yaml points asa1 at the fake
  asa1.log routers.log the generated syslog; truth.json names the planted incidents
  asa1.cfg             asa1's running config before the demo's push
  data/                the statistics database and its lock
  report.html          the report (open it in a browser)

Try next (the fake ASA is gone with this process, so stay offline or run your own):
  firebreak findings %s
  firebreak findings show %s %s
  firebreak terms %s --field destination.port --since 24h --at %s
  firebreak proposals list %s
  firebreak proposals diff %s %s --running %s
  firebreak report %s --at %s --format text
Then describe your own site (see README.md, "From the demo to your firewall").
`, time.Since(total).Round(100*time.Millisecond), dir, c, firstID(all), c, c, end.Format(time.DateOnly), c,
		blockID(blocks, 1), c, files.Config, c, end.Format(time.DateOnly))
	return nil
}

// demoPolicy writes demo-site.yaml: the generated policy with asa1's SSH pointed at the fake.
func demoPolicy(sitePath, addr, knownHosts string, asa *fakeasa.Server) (string, error) {
	b, err := os.ReadFile(sitePath)
	if err != nil {
		return "", err
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "", err
	}
	from := []byte("    ssh:\n      address: 10.10.0.1\n      port: 22\n      known_hosts: known_hosts\n")
	to := []byte("    ssh:\n      address: " + ap.Addr().String() + "\n      port: " + strconv.Itoa(int(ap.Port())) + "\n      known_hosts: " + knownHosts + "\n")
	if !bytes.Contains(b, from) {
		return "", errors.New("demo: the generated policy has no SSH section for asa1 to point at the fake")
	}
	b = bytes.Replace(b, from, to, 1)
	if err := asa.WriteKnownHosts(knownHosts); err != nil {
		return "", err
	}
	out := filepath.Join(filepath.Dir(sitePath), "demo-site.yaml")
	return out, os.WriteFile(out, b, 0o600)
}

// incidentFound reports whether a finding of the incident's expected detector is about one of
// its addresses or its user.
func incidentFound(inc scenario.Incident, fs []detect.Finding) bool {
	addrs := append(slices.Clone(inc.Hosts), inc.Peers...)
	for _, f := range fs {
		if f.Detector != inc.Detector {
			continue
		}
		if (inc.User != "" && f.Subject.User == inc.User) || slices.Contains(addrs, f.Subject.Host) || slices.Contains(addrs, f.Subject.Peer) {
			return true
		}
	}
	return false
}

// blockRank orders block proposals for the demo: an internal host's unusual-port traffic
// to the peer first, then scans, then unusual ports, then the rest.
func blockRank(p remediate.Proposal) int {
	if p.Direction == remediate.DirHost && slices.ContainsFunc(p.Findings, func(f remediate.FindingRef) bool { return f.Detector == detect.DetectorUnusualPorts }) {
		return -1
	}
	best := 2
	for _, f := range p.Findings {
		switch f.Detector {
		case detect.DetectorPortScan:
			best = min(best, 0)
		case detect.DetectorUnusualPorts:
			best = min(best, 1)
		}
	}
	return best
}

func randomSecret() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func countsString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}

var severityRank = map[detect.Severity]int{detect.SeverityCritical: 0, detect.SeverityHigh: 1, detect.SeverityMedium: 2, detect.SeverityLow: 3, detect.SeverityInfo: 4}

func topFindings(fs []detect.Finding, n int) []detect.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(x, y detect.Finding) int { return severityRank[x.Severity] - severityRank[y.Severity] })
	return out[:min(n, len(out))]
}

// onePerDetector picks the most severe finding of each detector, most severe first.
func onePerDetector(fs []detect.Finding) []detect.Finding {
	seen := map[string]bool{}
	var out []detect.Finding
	for _, f := range topFindings(fs, len(fs)) {
		if !seen[f.Detector] {
			seen[f.Detector] = true
			out = append(out, f)
		}
	}
	return out
}

func firstID(fs []detect.Finding) string {
	if len(fs) == 0 {
		return "ID"
	}
	return topFindings(fs, 1)[0].ID
}

func blockID(ps []remediate.Proposal, i int) string {
	if i < len(ps) {
		return ps[i].ID
	}
	return ps[0].ID
}
