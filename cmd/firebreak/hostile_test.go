package main

import (
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/detect/report"
	"github.com/firebreak-dev/firebreak/policies"
)

// hostilePieces are what an attacker puts into a username or any other text that reaches a
// terminal or a page: line breaks, terminal escapes (CSI, OSC title and hyperlink, C1 CSI),
// bidi and other format characters, NUL, invalid UTF-8 and markup.
var hostilePieces = []string{
	"\n", "\r", "\r\n", "\n%ASA-6-113039: fake line", "\x1b[2J", "\x1b[31mred\x1b[0m", "\x1b]0;owned\x07",
	"\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\", "\u009b31m", "\u202e", "\u2066", "\u200f", "\u061c",
	"\x00", "\xff", "\xc3", "\xed\xa0\x80", "\x08\x08\x08", "\t", "\x07", "\x7f", "\u0085", "\u2028",
	"\u2029", "\ufeff", "\u200b", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
	"\"><b>bold</b>", "&lt;i&gt;", "'", "\\x1b[31m",
}

var hostileBases = []string{"jsmith", "José", "admin", "203.0.113.5", "svc_backup", "dr.lee", "müller", "a"}

// hostileCorpus generates n inputs, each printable text carrying one or two hostile pieces at
// the start, in the middle or at the end.
func hostileCorpus(n int) []string {
	out := make([]string, 0, n)
	np := len(hostilePieces)
	for i := range n {
		base := hostileBases[i%len(hostileBases)]
		p := hostilePieces[i%np]
		q := hostilePieces[(i*7+3)%np]
		var s string
		switch (i / np) % 4 {
		case 0:
			s = p + base
		case 1:
			s = base[:len(base)/2] + p + base[len(base)/2:]
		case 2:
			s = base + p
		default:
			s = p + base + q
		}
		out = append(out, s)
	}
	return out
}

// marked wraps input i in markers, so an output line can be traced back to its input and a
// broken line (an injected line break) is seen.
func marked(i int, s string) string { return fmt.Sprintf("[h%03d:%s:h%03d]", i, s, i) }

func startMark(i int) string { return fmt.Sprintf("[h%03d:", i) }
func endMark(i int) string   { return fmt.Sprintf(":h%03d]", i) }

// unsafeText reports what may not reach a terminal or page raw: invalid UTF-8 and any rune
// that is not graphic (control, format including bidi, line and paragraph separators).
func unsafeText(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) })
}

// leaksIn returns the inputs whose text reached out unescaped (a line holding one of its
// markers without the other, so a line break got through, or holding an unsafe rune), and
// which inputs were seen at all.
func leaksIn(out string, n int) (leaked, seen map[int]bool) {
	leaked, seen = map[int]bool{}, map[int]bool{}
	for _, line := range strings.Split(out, "\n") {
		for i := range n {
			s, e := strings.Contains(line, startMark(i)), strings.Contains(line, endMark(i))
			seen[i] = seen[i] || s
			if (s || e) && (s != e || unsafeText(line)) {
				leaked[i] = true
			}
		}
	}
	return leaked, seen
}

// hostileSite writes a minimal policy and stores one finding per input, with the input in
// every text field a person sees; it also ingests VPN logins whose usernames are the inputs.
func hostileSite(t *testing.T, corpus []string, at time.Time) (policy, data string) {
	t.Helper()
	dir := t.TempDir()
	policy, data = filepath.Join(dir, "site.yaml"), filepath.Join(dir, "data")
	write(t, policy, "site: hostile\ninternal: [10.0.0.0/8]\ndevices:\n  - {name: fw1, kind: asa, syslog_sources: [10.20.0.1]}\n")
	cfg, err := policies.Load(policy)
	if err != nil {
		t.Fatal(err)
	}
	st, err := stats.Open(t.Context(), data, storeOptions(cfg, func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	var fs []detect.Finding
	for i, s := range corpus {
		m := marked(i, s)
		fs = append(fs, detect.Finding{
			Key: "hostile|" + m, Detector: detect.DetectorNewVPNSource, Severity: detect.SeverityMedium,
			Title:   "VPN user " + m + " logged in",
			Subject: detect.Subject{User: m, Peer: netip.MustParseAddr("198.51.100.7"), Segment: m},
			Evidence: detect.Evidence{
				Summary: "first login of " + m, Window: detect.TimeRange{From: at.Add(-time.Hour), To: at},
				Counts: map[string]float64{m: 1}, TopPeers: []detect.Ranked{{Key: m, Value: 1}},
				Lines: []string{"<166>Mar  3 08:15:27 fw1 %ASA-6-722022: Group <G> User <" + m + "> IP <198.51.100.7>"},
			},
			FirstSeen: at.Add(-time.Hour), LastSeen: at.Add(-time.Minute),
		})
	}
	if _, err := detect.NewStore(st, 0).Upsert(t.Context(), []string{detect.DetectorNewVPNSource},
		detect.TimeRange{From: at.Add(-time.Hour), To: at}, fs, func(string) time.Duration { return 0 }, at); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// VPN logins through the real parser and pipeline: each hostile username logs in three
	// times in the last hour before at (a line cannot carry a raw newline, the rest can).
	var b strings.Builder
	for i, s := range corpus {
		u := strings.NewReplacer("\n", "", ">", "").Replace(marked(i, s))
		for k := range 3 {
			ts := at.Add(-time.Duration(30+k) * time.Minute).UTC()
			fmt.Fprintf(&b, "<166>%s fw1 : %%ASA-6-722022: Group <G> User <%s> IP <198.51.100.%d> TCP SVC connection established without compression\n",
				ts.Format("Jan _2 2006 15:04:05"), u, 10+i%200)
		}
	}
	// Background: ordinary users over the two days before, so the hostile ones stand out.
	for k := range 2000 {
		ts := at.Add(-3*time.Hour - time.Duration(k)*time.Minute).UTC()
		fmt.Fprintf(&b, "<166>%s fw1 : %%ASA-6-722022: Group <G> User <staff%02d> IP <192.0.2.%d> TCP SVC connection established without compression\n",
			ts.Format("Jan _2 2006 15:04:05"), k%40, 1+k%40)
	}
	logf := filepath.Join(dir, "vpn.log")
	write(t, logf, b.String())
	if code, _, errOut := runCLI(t, "", "ingest", "--config", policy, "--data-dir", data, logf); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errOut)
	}
	return policy, data
}

// TestHostileTextIsEscapedEverywhere runs a corpus of 360 generated hostile inputs through
// every output a person reads: findings list and show, detect, terms, and the dashboard's
// report, findings, proposals and blocks pages. None may bring a raw control, format or bidi
// character, a line break, invalid UTF-8 or live markup.
func TestHostileTextIsEscapedEverywhere(t *testing.T) {
	corpus := hostileCorpus(360)
	at := time.Now().UTC().Truncate(time.Hour)
	policy, data := hostileSite(t, corpus, at)
	base := []string{"--config", policy, "--data-dir", data}
	cli := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, "", append(append([]string{}, args...), base...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	n := len(corpus)
	check := func(what string, leaked, seen map[int]bool, least int) {
		t.Helper()
		t.Logf("%s: %d of %d inputs shown, %d unescaped", what, len(seen), n, len(leaked))
		if len(seen) < least {
			t.Errorf("%s: %d of %d hostile inputs shown at all; want at least %d", what, len(seen), n, least)
		}
		if len(leaked) > 0 {
			t.Errorf("%s: %d of %d hostile inputs reached the output unescaped", what, len(leaked), n)
		}
	}

	l, seen := leaksIn(cli("findings", "list"), n)
	check("findings list", l, seen, n)

	fs, err := func() ([]detect.Finding, error) {
		cfg, err := policies.Load(policy)
		if err != nil {
			return nil, err
		}
		st, err := stats.Open(t.Context(), data, storeOptions(cfg, time.Now))
		if err != nil {
			return nil, err
		}
		defer st.Close()
		return detect.NewStore(st, 0).List(t.Context(), detect.Filter{})
	}()
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) < n {
		t.Fatalf("%d findings stored for %d inputs", len(fs), n)
	}
	shown, seen := map[int]bool{}, map[int]bool{}
	for _, f := range fs {
		l, s := leaksIn(cli("findings", "show", f.ID), n)
		for i := range l {
			shown[i] = true
		}
		for i := range s {
			seen[i] = true
		}
	}
	check("findings show", shown, seen, n)

	termsOut := cli("terms", "--field", "user.source", "--since", "2h", "--at", at.Format(time.RFC3339),
		"--size", "-1", "--min-doc-count", "1")
	l, seen = leaksIn(termsOut, n)
	check("terms", l, seen, n)
	l, seen = leaksIn(cli("detect", "--at", at.Format(time.RFC3339), "--window", "2h"), n)
	check("detect", l, seen, 1)

	// The dashboard, over a real loopback listener.
	cfg, err := policies.Load(policy)
	if err != nil {
		t.Fatal(err)
	}
	st, err := stats.Open(t.Context(), data, storeOptions(cfg, time.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &app{log: slog.New(slog.DiscardHandler), stdout: io.Discard, stderr: io.Discard}
	srv := httptest.NewServer(report.Handler(report.DashboardOptions{Sources: a.reportSources(cfg, st)}))
	defer srv.Close()
	for _, path := range []string{"/?range=7d", "/findings?range=7d", "/proposals", "/blocks", "/window?range=7d"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		l, seen := htmlLeaks(string(body), n)
		least := 0
		if path == "/findings?range=7d" {
			least = n
		}
		check("dashboard "+path, l, seen, least)
	}
}

// htmlLeaks returns the inputs that reached a page raw: an unsafe rune between its markers
// (the page's own newlines and tabs are outside them), or markup that was not escaped.
func htmlLeaks(page string, n int) (leaked, seen map[int]bool) {
	leaked, seen = map[int]bool{}, map[int]bool{}
	for i := range n {
		s, e := startMark(i), endMark(i)
		rest := page
		for {
			a := strings.Index(rest, s)
			if a < 0 {
				break
			}
			seen[i] = true
			rest = rest[a+len(s):]
			b := strings.Index(rest, e)
			if b < 0 {
				leaked[i] = true
				break
			}
			span := rest[:b]
			if unsafeText(span) || strings.ContainsAny(span, "<>") || unsafeText(html.UnescapeString(span)) {
				leaked[i] = true
			}
			rest = rest[b:]
		}
	}
	return leaked, seen
}
