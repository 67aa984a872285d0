package report

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-dev/firebreak/detect"
)

// hostile is attacker-controlled text as it can reach a report through syslog: user names,
// raw lines and anything a detector copies into a title.
const hostile = "<script>alert(1)</script><img src=http://evil.example/x onerror=alert(2)>\x1b[31m\u202e`|*[x](http://evil.example)"

func hostileSources(t *testing.T, f *fixture) Sources {
	return Sources{
		Findings: func(_ context.Context, w Window) ([]detect.Finding, error) {
			return []detect.Finding{{
				ID: "f1", Detector: detect.DetectorNewVPNSource, Severity: detect.SeverityHigh,
				Title:     "new VPN source for " + hostile,
				Subject:   detect.Subject{User: hostile, Peer: netip.MustParseAddr("198.51.100.253")},
				Evidence:  detect.Evidence{Summary: hostile, Lines: []string{"<166>%ASA-6-722022: User <" + hostile + "> </pre><script>x()</script>"}},
				FirstSeen: w.From.Add(time.Hour), LastSeen: w.From.Add(2 * time.Hour), Count: 1,
			}}, nil
		},
		Proposals: func(context.Context) ([]ProposalView, error) {
			return []ProposalView{{ID: "p-1", Kind: "block", State: "proposed", Target: "203.0.113.9",
				Diff: "--- running\n+++ proposed\n@@ -1 +1,2 @@\n+object-group network FIREBREAK_BLOCK\n- " + hostile + "\n",
				CLI:  []string{"network-object host 203.0.113.9", "```" + hostile}, Created: w0,
				Effect: []string{effectLine}}}, nil
		},
		Blocks: func(context.Context, time.Time) ([]BlockView, error) {
			return []BlockView{{ID: "p-0", Target: "203.0.113.7", AppliedAt: w0, HitCount: 12, DeniesSince: 40, StillNeeded: hostile}}, nil
		},
	}
}

var w0 = time.Date(2026, 4, 7, 12, 0, 0, 0, time.UTC)

const effectLine = "10.3.100.15 -> 203.0.113.9 tcp/4444: permitted (inside_access_in line 3) -> dropped (inside_access_in line 1, FIREBREAK_BLOCK)"

func TestProposalEffectInEveryFormat(t *testing.T) {
	d := hostileReport(t)
	for _, f := range []Format{FormatText, FormatMarkdown, FormatHTML} {
		out := render(t, d, f)
		want := effectLine
		if f == FormatHTML {
			want = strings.ReplaceAll(effectLine, ">", "&gt;")
		}
		if !strings.Contains(out, want) || !strings.Contains(out, "verdict before") {
			t.Errorf("%s report does not show the proposal's effect", f)
		}
	}
}

func hostileReport(t *testing.T) *Data {
	t.Helper()
	f := scenarioFixture(t)
	d, _ := exfilReport(t, f, hostileSources(t, f))
	return d
}

func render(t *testing.T, d *Data, f Format) string {
	t.Helper()
	var b bytes.Buffer
	if err := d.Render(&b, f); err != nil {
		t.Fatalf("Render %s: %v", f, err)
	}
	return b.String()
}

func TestHTMLSelfContainedAndEscaped(t *testing.T) {
	d := hostileReport(t)
	html := render(t, d, FormatHTML)
	// Text is escaped, so every raw '<' opens one of the template's own tags: check them all.
	for _, tag := range regexp.MustCompile(`<[a-zA-Z][^>]*>`).FindAllString(html, -1) {
		name := strings.ToLower(strings.Fields(strings.Trim(tag, "<>/"))[0])
		switch name {
		case "script", "img", "link", "iframe", "object", "embed", "form", "input", "base", "meta":
			if name == "meta" && !strings.Contains(tag, "http-equiv") {
				continue
			}
			t.Errorf("HTML has a <%s> tag: %s", name, tag)
		}
		if m := regexp.MustCompile(`(?i)\s(on\w+|src|href|xlink:href)\s*=\s*"?([^"\s>]*)`).FindStringSubmatch(tag); m != nil {
			if strings.HasPrefix(strings.ToLower(m[1]), "on") || !strings.HasPrefix(m[2], "#") {
				t.Errorf("tag refers to another resource or runs code: %s", tag)
			}
		}
	}
	lower := strings.ToLower(html)
	for _, bad := range []string{"@import", "javascript:"} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML holds %q", bad)
		}
	}
	for _, m := range regexp.MustCompile(`(?i)url\(\s*['"]?([^'")]*)`).FindAllStringSubmatch(html, -1) {
		if !strings.HasPrefix(m[1], "data:") {
			t.Errorf("url() to another resource: %s", m[0])
		}
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile user name is not shown escaped")
	}
	if strings.ContainsAny(html, "\x1b\u202e") {
		t.Error("a control character reached the HTML")
	}
	for _, want := range []string{"<svg", "Traffic by hour", "Printers talking to external addresses", "Significant terms", `class="mark"`, "FIREBREAK_BLOCK", "Content-Type"} {
		if want == "Content-Type" {
			continue
		}
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if n := strings.Count(html, "<svg"); n < 4 {
		t.Errorf("%d charts; want servers, traffic and terms charts", n)
	}
	if strings.Count(html, "<table") < 4 {
		t.Error("charts without their tables")
	}
	if again := render(t, d, FormatHTML); again != html {
		t.Error("HTML output is not deterministic")
	}
}

func TestTextAndMarkdownEscape(t *testing.T) {
	d := hostileReport(t)
	text := render(t, d, FormatText)
	if strings.ContainsAny(text, "\x1b\u202e") {
		t.Error("text output holds terminal or bidi control characters")
	}
	if !strings.Contains(text, `\x1b[31m`) {
		t.Error("text output does not show the escape character escaped")
	}
	for _, want := range []string{"Traffic by hour", "printsrv", "p-1: block 203.0.113.9", "+object-group network FIREBREAK_BLOCK"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	md := render(t, d, FormatMarkdown)
	if out := outsideFences(md); strings.Contains(out, "<script") || strings.Contains(out, "<img") || strings.Contains(out, "](http") {
		t.Error("markdown lets hostile text add HTML or links")
	}
	if strings.ContainsAny(md, "\x1b\u202e") {
		t.Error("markdown holds control characters")
	}
	// The CLI line holds ``` : its fence must be longer.
	if !strings.Contains(md, "````\nnetwork-object host 203.0.113.9") {
		t.Error("code fence not longer than the backticks it holds")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	d := hostileReport(t)
	var b bytes.Buffer
	if err := d.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, back, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"md": FormatMarkdown, "HTML": FormatHTML, "json": FormatJSON, "": FormatText} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Error("ParseFormat(pdf) succeeded")
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		max  float64
		want []float64
	}{{1.32e9, []float64{0, 5e8, 1e9, 1.5e9}}, {7, []float64{0, 2, 4, 6, 8}}, {0, []float64{0, 1}}} {
		if got := niceTicks(c.max, 4); !cmp.Equal(got, c.want) {
			t.Errorf("niceTicks(%g) = %v; want %v", c.max, got, c.want)
		}
	}
}

func TestFmtBytes(t *testing.T) {
	for v, want := range map[uint64]string{0: "0 B", 999: "999 B", 1500: "1.50 kB", 86300: "86.3 kB", 1_320_000_000: "1.32 GB", 745e6: "745 MB"} {
		if got := fmtBytes(v); got != want {
			t.Errorf("fmtBytes(%d) = %q; want %q", v, got, want)
		}
	}
}

// outsideFences drops the fenced code blocks of a markdown text (their content is literal).
func outsideFences(md string) string {
	var b strings.Builder
	fence := ""
	for _, l := range strings.Split(md, "\n") {
		switch {
		case fence == "" && strings.HasPrefix(l, "```"):
			fence = strings.TrimRight(l, " ")
		case fence != "" && l == fence:
			fence = ""
		case fence == "":
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// A change stored as ineffective is not a pending proposal: the report lists
// it apart, with the reason, in every format.
func TestIneffectiveProposalsListedApart(t *testing.T) {
	why := "all 3 flows already dropped by outside_access_in line 5; the ACL already stops this peer"
	views := []ProposalView{
		{ID: "p-0011", Kind: "block", State: "proposed", Target: "192.0.2.144", Reason: "external peer of unusual_ports"},
		{ID: "p-0016", Kind: "block", State: "rejected", Target: "203.0.113.250", Findings: []string{"4a7554d9"}, Ineffective: why},
	}
	s := buildProposals(t.Context(), func(context.Context) ([]ProposalView, error) { return views, nil }, time.Now(), slog.New(slog.DiscardHandler))
	if len(s.Pending) != 1 || s.Pending[0].ID != "p-0011" || len(s.Ineffective) != 1 || s.Ineffective[0].ID != "p-0016" {
		t.Fatalf("pending %+v ineffective %+v", s.Pending, s.Ineffective)
	}
	d := &Data{Proposals: s}
	for _, f := range []Format{FormatText, FormatMarkdown, FormatHTML} {
		out := render(t, d, f)
		want := why
		if f == FormatMarkdown {
			want = strings.ReplaceAll(why, "_", `\_`)
		}
		if !strings.Contains(out, want) || !strings.Contains(out, "p-0016") || !strings.Contains(out, "Not offered") {
			t.Errorf("%s report does not list the ineffective change:\n%s", f, out)
		}
	}
}
