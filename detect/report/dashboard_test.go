package report

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
)

// dash is a dashboard over the scenario fixture on a real HTTP listener on 127.0.0.1.
type dash struct {
	t   *testing.T
	f   *fixture
	srv *httptest.Server
	now time.Time
}

func newDash(t *testing.T, findings []detect.Finding) *dash {
	f := scenarioFixture(t)
	now := dayEnd(f.incident(t, scenario.KindExfiltration).Start, f.cfg.Location())
	src := Sources{Store: f.st, Config: f.cfg, ArchiveDir: f.archive,
		Findings: func(context.Context, Window) ([]detect.Finding, error) { return findings, nil }}
	srv := httptest.NewServer(Handler(DashboardOptions{Sources: src, Now: func() time.Time { return now }}))
	t.Cleanup(srv.Close)
	return &dash{t: t, f: f, srv: srv, now: now}
}

func (d *dash) get(path string) (int, string) {
	d.t.Helper()
	req, err := http.NewRequestWithContext(d.t.Context(), http.MethodGet, d.srv.URL+path, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	resp, err := d.srv.Client().Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func (d *dash) json(path string, v any) {
	d.t.Helper()
	code, body := d.get(path)
	if code != http.StatusOK {
		d.t.Fatalf("GET %s = %d: %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
}

// siteTotals sums the store's own hourly site counters over [from, to).
func siteTotals(t *testing.T, st *stats.Store, from, to time.Time) (bytes, conns, denies uint64) {
	t.Helper()
	series, err := st.SiteSeries(t.Context(), stats.Window{From: from, To: to}, stats.Hourly)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range series {
		bytes, conns, denies = bytes+b.Bytes, conns+b.Conns, denies+b.Denies
	}
	return bytes, conns, denies
}

func TestDashboardRanges(t *testing.T) {
	d := newDash(t, nil)
	loc := d.f.cfg.Location()
	prev := uint64(0)
	for _, c := range []struct {
		rng  string
		bars int
		unit string
	}{{"24h", 24, "hour"}, {"7d", 7, "day"}, {"30d", 30, "day"}} {
		var data Data
		d.json("/?format=json&range="+c.rng, &data)
		a := data.Activity
		if len(a.Bars) != c.bars || a.Unit != c.unit {
			t.Fatalf("%s: %d bars of a %s; want %d of a %s", c.rng, len(a.Bars), a.Unit, c.bars, c.unit)
		}
		if !data.Window.To.Equal(d.now) || !a.Bars[0].From.Equal(data.Window.From) {
			t.Errorf("%s: window %v, first bar %v", c.rng, data.Window, a.Bars[0].From)
		}
		if c.unit == "day" && a.Bars[0].From.In(loc).Hour() != 0 {
			t.Errorf("%s: day bars start at %v, not a local midnight", c.rng, a.Bars[0].From.In(loc))
		}
		bytes, conns, denies := siteTotals(t, d.f.st, data.Window.From, data.Window.To)
		if a.Totals.Bytes != bytes || a.Totals.Conns != conns || a.Totals.Denies != denies || bytes == 0 {
			t.Errorf("%s: totals %+v; the store has %d bytes, %d conns, %d denies", c.rng, a.Totals, bytes, conns, denies)
		}
		var sum uint64
		for _, b := range a.Bars {
			sb, _, _ := siteTotals(t, d.f.st, b.From, b.To)
			if b.Bytes != sb {
				t.Errorf("%s: bar %s has %d bytes; the store %d", c.rng, b.Label, b.Bytes, sb)
			}
			sum += b.Bytes
		}
		if sum != bytes {
			t.Errorf("%s: bars sum to %d, totals %d", c.rng, sum, bytes)
		}
		if bytes < prev {
			t.Errorf("%s: %d bytes, less than the shorter range's %d", c.rng, bytes, prev)
		}
		if c.rng == "7d" && bytes <= prev {
			t.Errorf("7d (%d bytes) adds nothing to 24h: the scenario has 3 days", bytes)
		}
		prev = bytes
		// The page shows the same figures in human units, and links keep the range.
		code, page := d.get("/?range=" + c.rng)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", c.rng, code)
		}
		for _, want := range []string{fmtBytes(bytes), fmtCount(conns), `href="findings?range=` + c.rng + `"`} {
			if c.rng == "24h" {
				want = strings.Replace(want, "?range=24h", "", 1)
			}
			if !strings.Contains(page, want) {
				t.Errorf("%s page lacks %q", c.rng, want)
			}
		}
		if conns >= 1000 && !strings.Contains(fmtCount(conns), ",") {
			t.Errorf("count %s without separators", fmtCount(conns))
		}
		if regexp.MustCompile(`\de[+-]\d`).MatchString(page) {
			t.Errorf("%s page prints a number with an exponent", c.rng)
		}
	}

	// A custom range is exactly its window: one local day, 24 hour bars.
	day := d.now.AddDate(0, 0, -1)
	from, to := day.Format("2006-01-02"), d.now.Format("2006-01-02")
	var data Data
	d.json("/?format=json&from="+from+"&to="+to, &data)
	bytes, _, _ := siteTotals(t, d.f.st, day, d.now)
	if len(data.Activity.Bars) != 24 || data.Activity.Totals.Bytes != bytes || !data.Window.From.Equal(day) {
		t.Errorf("custom %s..%s: %d bars, %d bytes from %v; want 24, %d from %v", from, to, len(data.Activity.Bars), data.Activity.Totals.Bytes, data.Window.From, bytes, day)
	}
	for _, bad := range []string{"range=1y", "range=custom", "from=yesterday", "from=2026-01-02&to=2026-01-01", "severity=urgent", "host=printer", "device=nope", "page=-1"} {
		if code, _ := d.get("/?" + bad); code != http.StatusBadRequest {
			t.Errorf("?%s = %d; want 400", bad, code)
		}
	}
}

func TestDashboardFilters(t *testing.T) {
	f := scenarioFixture(t)
	w := Last(dayEnd(f.incident(t, scenario.KindExfiltration).Start, f.cfg.Location()), 24*time.Hour)
	series, err := f.st.AllHostSeries(t.Context(), stats.Window{From: w.From, To: w.To}, stats.Hourly)
	if err != nil {
		t.Fatal(err)
	}
	var host netip.Addr
	var hostBytes uint64
	for h, bs := range series {
		var b uint64
		for _, x := range bs {
			b += x.Bytes()
		}
		if n, ok := f.cfg.Classify(h); ok && serverRole[n.Role] && b > hostBytes {
			host, hostBytes = h, b
		}
	}
	other := netip.MustParseAddr("10.9.9.9")
	at := w.To.Add(-2 * time.Hour)
	findings := []detect.Finding{
		{ID: "a", Detector: detect.DetectorPortScan, Severity: detect.SeverityHigh, Title: "scan", Subject: detect.Subject{Host: host}, FirstSeen: at, LastSeen: at},
		{ID: "b", Detector: detect.DetectorPortScan, Severity: detect.SeverityLow, Title: "scan", Subject: detect.Subject{Host: other}, FirstSeen: at, LastSeen: at},
		{ID: "c", Detector: detect.DetectorVolumeSpike, Severity: detect.SeverityCritical, Title: "spike", Subject: detect.Subject{Peer: host}, FirstSeen: at, LastSeen: at},
		{ID: "d", Detector: detect.DetectorSilentHost, Severity: detect.SeverityMedium, Title: "silent", Subject: detect.Subject{Host: other}, FirstSeen: at, LastSeen: at},
	}
	d := newDash(t, findings)
	ids := func(q string) string {
		var data Data
		d.json("/?format=json&"+q, &data)
		var out []string
		for _, x := range data.Findings.New {
			out = append(out, x.ID)
		}
		return strings.Join(out, ",")
	}
	for q, want := range map[string]string{
		"":                      "c,a,d,b",
		"detector=port_scan":    "a,b",
		"severity=high":         "c,a",
		"host=" + host.String(): "c,a",
		"detector=port_scan&severity=medium&host=" + host.String(): "a",
		"severity=critical&host=" + other.String():                 "",
	} {
		if got := ids(q); got != want {
			t.Errorf("findings with ?%s = %q; want %q", q, got, want)
		}
	}
	// The findings page narrows the same way, and its links keep the filter.
	_, page := d.get("/findings?severity=high")
	if !strings.Contains(page, `id="f-c"`) || strings.Contains(page, `id="f-d"`) || !strings.Contains(page, `href="proposals?severity=high"`) {
		t.Error("findings page: severity filter not applied or not kept in the links")
	}

	// A host narrows the statistics to it.
	var data Data
	d.json("/?format=json&host="+host.String(), &data)
	if data.Activity.Host != host || data.Activity.Totals.Bytes != hostBytes {
		t.Errorf("host %s: activity of %s with %d bytes; the store has %d", host, data.Activity.Host, data.Activity.Totals.Bytes, hostBytes)
	}
	for _, g := range data.Servers.Groups {
		for _, s := range g.Servers {
			if s.Host != host {
				t.Errorf("host filter %s lists server %s", host, s.Host)
			}
		}
	}
	if len(data.Servers.Groups) != 1 {
		t.Errorf("host filter: %d server groups; want 1", len(data.Servers.Groups))
	}
	var all Data
	d.json("/?format=json", &all)
	if all.Activity.Totals.Bytes <= data.Activity.Totals.Bytes {
		t.Error("the host filter did not narrow the activity")
	}
	// A device narrows the interfaces.
	n := 0
	for _, dev := range []string{"asa1", "rtr-b2", "rtr-b3"} {
		var one Data
		d.json("/?format=json&device="+dev, &one)
		for _, r := range one.Interfaces.Rows {
			if r.Device != dev {
				t.Errorf("device filter %s lists %s", dev, r.Device)
			}
		}
		n += len(one.Interfaces.Rows)
	}
	if len(all.Interfaces.Rows) == 0 || n != len(all.Interfaces.Rows) {
		t.Errorf("the devices' interfaces add up to %d of %d", n, len(all.Interfaces.Rows))
	}
}

func TestDashboardDenied(t *testing.T) {
	d := newDash(t, nil)
	var data Data
	d.json("/?format=json&range=7d", &data)
	want, err := d.f.st.Denies(t.Context(), netip.Addr{}, stats.Window{From: data.Window.From, To: data.Window.To}, stats.Hourly)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 3 {
		t.Fatalf("the scenario has %d deny sources", len(want))
	}
	var total uint64
	for _, s := range want {
		total += s.Count
	}
	den := data.Denied
	if den.Total != total || den.SourceCount != len(want) || len(den.Sources) != min(len(want), maxDeniedRows) {
		t.Errorf("denied: total %d of %d sources, %d shown; the store has %d of %d", den.Total, den.SourceCount, len(den.Sources), total, len(want))
	}
	for i, s := range den.Sources {
		if s.Src != want[i].Src || s.Count != want[i].Count {
			t.Errorf("denied source %d: %s %d; the store's is %s %d", i, s.Src, s.Count, want[i].Src, want[i].Count)
		}
	}
	ports := map[string]uint64{}
	for _, s := range want {
		for _, p := range s.Ports {
			ports[PortLabel(p.Proto, p.Port)] += p.Count
		}
	}
	if len(den.Ports) == 0 || ports[den.Ports[0].Port] != den.Ports[0].Count {
		t.Errorf("top denied port %+v; the store counts %d", den.Ports, ports[den.Ports[0].Port])
	}
	for _, p := range den.Ports {
		if p.Count > den.Ports[0].Count {
			t.Errorf("denied ports not most first: %+v", den.Ports)
		}
	}
	if len(den.ACLs) == 0 {
		t.Error("no denying ACLs")
	}
	_, page := d.get("/?range=7d")
	for _, w := range []string{"Top denied sources", want[0].Src.String(), fmtCount(want[0].Count), den.Ports[0].Port, den.ACLs[0].ACL} {
		if !strings.Contains(page, w) {
			t.Errorf("denied panel lacks %q", w)
		}
	}
	// The denied page shows the same panels for the range, with the interfaces.
	var dp struct {
		Denied     DeniedSection     `json:"denied"`
		Interfaces InterfacesSection `json:"interfaces"`
	}
	d.json("/denied?range=7d&format=json", &dp)
	if dp.Denied.Total != total || len(dp.Denied.Sources) == 0 || dp.Denied.Sources[0].Src != want[0].Src || len(dp.Interfaces.Rows) == 0 {
		t.Errorf("denied page: total %d, sources %+v, %d interfaces", dp.Denied.Total, dp.Denied.Sources, len(dp.Interfaces.Rows))
	}
	if code, dpage := d.get("/denied?range=7d"); code != http.StatusOK || !strings.Contains(dpage, "Top denied sources") || !strings.Contains(dpage, "Traffic per device interface") {
		t.Errorf("denied page %d lacks its panels", code)
	}
	// Filtering by the top source keeps only it.
	var one Data
	d.json("/?format=json&range=7d&host="+want[0].Src.String(), &one)
	if one.Denied.SourceCount != 1 || one.Denied.Total != want[0].Count {
		t.Errorf("host %s: %d sources, %d denies", want[0].Src, one.Denied.SourceCount, one.Denied.Total)
	}
}

// archivedLines are the fixture archive's lines dated in [from, to) that name host (any when
// zero), in archive order, read independently of the dashboard.
func archivedLines(t *testing.T, f *fixture, from, to time.Time, host netip.Addr) []string {
	t.Helper()
	var out []string
	var ev ciscolog.Event
	for day := from.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1); day.Before(to.Add(48 * time.Hour)); day = day.AddDate(0, 0, 1) {
		names, err := collector.ArchiveFiles(f.archive, day)
		if err != nil {
			t.Fatal(err)
		}
		p := archiveParser(f.cfg, day.Add(48*time.Hour))
		for _, name := range names {
			r, err := collector.OpenLog(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			sc := collector.NewLineScanner(r, collector.MaxLine)
			for {
				if _, ok := sc.Next(t.Context()); !ok {
					break
				}
				p.Parse(sc.Line(), &ev)
				if ev.Time.Before(from) || !ev.Time.Before(to) {
					continue
				}
				if host.IsValid() && !strings.Contains(string(sc.Line()), host.String()) {
					continue
				}
				out = append(out, string(sc.Line()))
			}
			r.Close()
		}
	}
	return out
}

func TestDashboardDrillDown(t *testing.T) {
	d := newDash(t, nil)
	// Follow the link of the front page's busiest hour bar.
	var front Data
	d.json("/?format=json", &front)
	bar := front.Activity.Bars[0]
	for _, b := range front.Activity.Bars {
		if b.Bytes > bar.Bytes {
			bar = b
		}
	}
	_, page := d.get("/")
	links := regexp.MustCompile(`<a href="(window\?[^"]+)">`).FindAllStringSubmatch(page, -1)
	if len(links) != len(front.Activity.Bars) {
		t.Fatalf("front page has %d bar links for %d bars", len(links), len(front.Activity.Bars))
	}
	var link string
	for _, l := range links {
		u, err := url.Parse(html.UnescapeString(l[1]))
		if err != nil {
			t.Fatal(err)
		}
		if from, _ := parseWhen(u.Query().Get("from"), d.f.cfg.Location()); from.Equal(bar.From) {
			link = "/" + html.UnescapeString(l[1])
		}
	}
	if link == "" {
		t.Fatalf("no bar link starts at %v", bar.From)
	}
	var win WindowData
	d.json(link+"&format=json", &win)
	if !win.Window.From.Equal(bar.From) || !win.Window.To.Equal(bar.To) {
		t.Fatalf("drill-down window %v; the bar is %v..%v", win.Window, bar.From, bar.To)
	}
	if win.Activity.Totals.Bytes != bar.Bytes {
		t.Errorf("drill-down has %d bytes; its bar %d", win.Activity.Totals.Bytes, bar.Bytes)
	}
	// Hosts and peers are the store's for the window.
	sw := stats.Window{From: bar.From, To: bar.To}
	series, err := d.f.st.AllHostSeries(t.Context(), sw, stats.Hourly)
	if err != nil {
		t.Fatal(err)
	}
	peers, err := d.f.st.Peers(t.Context(), netip.Addr{}, sw, stats.Hourly)
	if err != nil {
		t.Fatal(err)
	}
	if win.HostCount != len(series) || len(win.Hosts) == 0 || win.PeerCount != len(peers) || len(win.Peers) == 0 {
		t.Errorf("drill-down: %d hosts, %d peers; the store has %d and %d", win.HostCount, win.PeerCount, len(series), len(peers))
	}
	if p := win.Peers[0]; p.Host != peers[0].Host || p.Peer != peers[0].Peer || p.Bytes != peers[0].Bytes() {
		t.Errorf("top peer %+v; the store's %+v", p, peers[0])
	}
	// The raw lines are the archive's lines of the window, and only those, page by page.
	want := archivedLines(t, d.f, bar.From, bar.To, netip.Addr{})
	if len(want) <= linesPerPage {
		t.Fatalf("the busiest hour has only %d archived lines", len(want))
	}
	if got := win.Lines.Lines; !equalLines(got, want[:linesPerPage]) || !win.Lines.More {
		t.Fatalf("page 0: %d lines (more %v); want the first %d of %d", len(got), win.Lines.More, linesPerPage, len(want))
	}
	var p1 WindowData
	d.json(link+"&format=json&page=1", &p1)
	if !equalLines(p1.Lines.Lines, want[linesPerPage:min(len(want), 2*linesPerPage)]) {
		t.Errorf("page 1: %d lines, not the archive's next ones", len(p1.Lines.Lines))
	}
	last := (len(want) - 1) / linesPerPage
	var pl WindowData
	d.json(link+"&format=json&page="+itoa(last), &pl)
	if !equalLines(pl.Lines.Lines, want[last*linesPerPage:]) || pl.Lines.More {
		t.Errorf("last page %d: %d lines, more %v; want %d", last, len(pl.Lines.Lines), pl.Lines.More, len(want)-last*linesPerPage)
	}
	// A host narrows the lines to those naming it.
	host := win.Hosts[0].Host
	hw := archivedLines(t, d.f, bar.From, bar.To, host)
	var hl WindowData
	d.json(link+"&format=json&host="+host.String(), &hl)
	if len(hw) == 0 || !equalLines(hl.Lines.Lines, hw[:min(len(hw), linesPerPage)]) {
		t.Errorf("host %s: %d lines; the archive has %d naming it", host, len(hl.Lines.Lines), len(hw))
	}
	if hl.HostCount != 1 || hl.Hosts[0].Host != host {
		t.Errorf("host filter: hosts %+v", hl.Hosts)
	}
	// A device narrows them to its lines.
	var rl WindowData
	d.json(link+"&format=json&device=asa1", &rl)
	for _, l := range rl.Lines.Lines {
		if !strings.Contains(l, " asa1 ") {
			t.Errorf("device asa1 shows %q", l)
			break
		}
	}
	// The HTML page shows the first line, escaped, and links to the next page.
	_, wp := d.get(link)
	if !strings.Contains(wp, html.EscapeString(want[0])) || !strings.Contains(wp, "page=1") {
		t.Error("drill-down page lacks the first raw line or the next-page link")
	}
	if !strings.Contains(wp, "Hosts") || !strings.Contains(wp, "External peers") || !strings.Contains(wp, "Denied traffic") {
		t.Error("drill-down page lacks a panel")
	}
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(n int) string { return fmtCount(uint64(n)) } // small numbers: no separator

// A hostile archived line and hostile ACL and finding text stay text on every new page.
func TestDashboardHostileLines(t *testing.T) {
	f := scenarioFixture(t)
	dir := t.TempDir()
	at := dayEnd(f.incident(t, scenario.KindExfiltration).Start, f.cfg.Location()).Add(-time.Hour)
	a, err := collector.OpenArchive(dir)
	if err != nil {
		t.Fatal(err)
	}
	stamp := at.In(f.cfg.Location()).Format("Jan _2 2006 15:04:05")
	evil := "<166>" + stamp + " asa1 : %ASA-4-106023: Deny tcp src outside:203.0.113.66/4444 dst inside:10.1.10.30/445 by access-group \"</pre><script>alert(1)</script>\u202e\x1b[2J\" [0x0, 0x0]"
	if err := a.Write(at, []byte(evil)); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	src := Sources{Store: f.st, Config: f.cfg, ArchiveDir: dir}
	srv := httptest.NewServer(Handler(DashboardOptions{Sources: src, Now: func() time.Time { return at.Add(time.Hour) }}))
	defer srv.Close()
	q := url.Values{"from": {at.Add(-time.Minute).Format(time.RFC3339)}, "to": {at.Add(time.Minute).Format(time.RFC3339)}}
	resp, err := srv.Client().Get(srv.URL + "/window?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "203.0.113.66/4444") {
		t.Fatalf("hostile line not shown (%d)", resp.StatusCode)
	}
	if strings.Contains(strings.ToLower(page), "<script") || strings.Contains(page, "\u202e") || strings.Contains(page, "\x1b") {
		t.Error("hostile raw line reached the page unescaped")
	}
	// The denied panel escapes ACL names; figures never print with exponents.
	d := &Data{Site: "x", Timezone: "UTC", Window: Last(at, time.Hour),
		Denied: DeniedSection{Total: 1, SourceCount: 1, Sources: []DeniedSource{{Src: netip.MustParseAddr("203.0.113.66"), Count: 1}},
			ACLs: []DeniedACL{{ACL: "<img src=x onerror=alert(1)>\u202e", Count: 1, Sources: 1}}},
		Findings: FindingsSection{New: []detect.Finding{{ID: "v", Detector: detect.DetectorVolumeSpike, Severity: detect.SeverityHigh,
			Evidence: detect.Evidence{Baseline: &detect.Comparison{Observed: 236500, Expected: 1234, Unit: "bytes/hour"},
				TopPeers: []detect.Ranked{{Key: "198.51.100.7", Value: 2.365e5}}}}}},
	}
	var out strings.Builder
	if err := d.writeHTML(&out, nil); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "<img") || strings.Contains(s, "\u202e") || !strings.Contains(s, "&lt;img src=x") {
		t.Error("hostile ACL name not escaped in the denied panel")
	}
	if !strings.Contains(s, "observed 236.5 kB/hour against an expected 1.23 kB/hour") || !strings.Contains(s, "198.51.100.7 (236.5 kB)") || strings.Contains(s, "e+05") {
		t.Error("evidence figures not in human units")
	}
}

func TestFmtNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 3.5: "3.5", 12345: "12,345", 1234567.84: "1,234,567.8", 0.96: "1", -2500: "-2,500"} {
		if got := fmtNum(v); got != want {
			t.Errorf("fmtNum(%v) = %q; want %q", v, got, want)
		}
	}
	if got := figure(236500, "bytes"); got != "236.5 kB" {
		t.Errorf("figure bytes = %q", got)
	}
	if got := figure(1500, "connections"); got != "1,500 connections" {
		t.Errorf("figure connections = %q", got)
	}
}
