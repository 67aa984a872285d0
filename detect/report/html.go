package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/firebreak-dev/firebreak/detect"

	"github.com/firebreak-dev/firebreak/display"
)

//go:embed report.html.tmpl
var templateText string

// tmpl is parsed once; its funcs that need the report's time zone read it from the value
// passed to Execute, so one template serves every report.
var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"when":         func(t time.Time) string { return fmtTime(t, time.UTC) },         // replaced per execution
	"status":       func(f detect.Finding) string { return f.StatusLabel(time.UTC) }, // replaced per execution
	"hour":         func(t time.Time) string { return t.UTC().Format("Mon 15:04") },
	"span":         func(w Window) string { return Age(w.To.Sub(w.From)).String() },
	"bytes":        fmtBytes,
	"bytesf":       func(f float64) string { return fmtBytes(uint64(max(f, 0))) },
	"count":        fmtCount,
	"count64":      func(n int64) string { return fmtCount(uint64(max(n, 0))) },
	"score":        fmtScore,
	"age":          func(a Age) string { return a.String() },
	"peer":         PeerLabel,
	"port":         PortLabel,
	"legend":       func(g ServerGroup) []legendItem { _, l := serverColours(g); return l },
	"serverChart":  serverChart,
	"trafficChart": trafficChart,
	"termChart":    termChart,
	"bar":          func(v, max uint64) template.HTML { return inlineBar(v, max, "c4") },
	"printerMax": func(rows []PrinterRow) uint64 {
		var m uint64
		for _, r := range rows {
			m = maxU(m, r.Bytes)
		}
		return m
	},
	"text":          display.Text, // every untrusted string
	"parts":         findingParts,
	"diffLines":     diffLines,
	"activityChart": activityChart,
	"figure":        figure,
	"ranked":        rankedValue,
	"num1":          fmtNum,
	"pair":          func(d DeniedSection, n *navView) deniedView { return deniedView{d, n} },
	"ifaces":        func(s InterfacesSection, n *navView) ifacesView { return ifacesView{s, n} },
	"add":           func(a, b, c int) int { return a + b + c },
	"int64":         func(n int) int64 { return int64(n) },
}).Parse(templateText))

type findingPart struct {
	Title    string
	Findings []detect.Finding
	Details  bool     // evidence blocks under the table
	Nav      *navView // nil: no filter links
}

// findingParts splits the findings for the template; the report details new findings only
// (ongoing ones were detailed when they were new), the dashboard page details all.
func findingParts(s FindingsSection, all bool, nav *navView) []findingPart {
	return []findingPart{{"New", s.New, true, nav}, {"Ongoing", s.Ongoing, all, nav}}
}

// ifacesView is the interface table with the page's links.
type ifacesView struct {
	I   InterfacesSection
	Nav *navView
}

// deniedView is the denied panels with the page's links.
type deniedView struct {
	Denied DeniedSection
	Nav    *navView
}

type diffLine struct{ Class, Text string }

// diffLines splits a unified diff into lines classed for colour (add, del, hunk).
func diffLines(diff string) []diffLine {
	var out []diffLine
	for _, l := range strings.SplitAfter(strings.TrimRight(diff, "\n")+"\n", "\n") {
		if l == "" {
			continue
		}
		c := "ctx"
		switch {
		case strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "---") || strings.HasPrefix(l, "@@"):
			c = "hunk"
		case strings.HasPrefix(l, "+"):
			c = "add"
		case strings.HasPrefix(l, "-"):
			c = "del"
		}
		out = append(out, diffLine{c, l})
	}
	return out
}

// localTemplate returns the template with time formatting in loc.
func localTemplate(loc *time.Location) (*template.Template, error) {
	t, err := tmpl.Clone()
	if err != nil {
		return nil, fmt.Errorf("report template: %w", err)
	}
	return t.Funcs(template.FuncMap{
		"when":   func(t time.Time) string { return fmtTime(t, loc) },
		"status": func(f detect.Finding) string { return f.StatusLabel(loc) },
		"hour":   func(t time.Time) string { return t.In(loc).Format("Mon 15:04") },
	}), nil
}

// WriteHTML writes the report as one self-contained HTML page: inline CSS and SVG, no scripts,
// fonts, images or links to anything outside the page. Every string is escaped by
// html/template; the SVG charts escape their labels themselves.
func (d *Data) WriteHTML(w io.Writer) error { return d.writeHTML(w, nil) }

// writeHTML renders the report; with nav (the dashboard) it has the range bar, the filter
// links and the drill-down links of the activity chart.
func (d *Data) writeHTML(w io.Writer, nav *navView) error {
	t, err := localTemplate(d.loc())
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "report", struct {
		D   *Data
		Nav *navView
	}{d, nav}); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	_, err = io.WriteString(w, cleanHTML(b.String()))
	return err
}

// cleanHTML is the net under the template's own escaping: untrusted fields go through
// display.Text in the template ("text"); any control, bidi or format character or invalid
// UTF-8 that still reached the page is escaped here by the same function, run over each piece
// of the page between the template's own newlines and tabs.
func cleanHTML(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && !unicode.IsGraphic(r) }) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' || s[i] == '\t' {
			b.WriteString(display.Text(s[start:i]))
			if i < len(s) {
				b.WriteByte(s[i])
			}
			start = i + 1
		}
	}
	return b.String()
}

// page is one dashboard listing.
type page struct {
	Kind, Title, Site, Note string
	At                      time.Time
	Nav                     *navView
	Denied                  DeniedSection
	Interfaces              InterfacesSection
	Findings                FindingsSection
	Proposals               []ProposalView
	Blocks                  []BlockView
}

func writePage(w io.Writer, p page, loc *time.Location) error {
	t, err := localTemplate(loc)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "page", p); err != nil {
		return fmt.Errorf("render %s page: %w", p.Kind, err)
	}
	_, err = io.WriteString(w, cleanHTML(b.String()))
	return err
}

// writeWindow renders the drill-down page of a window.
func (d *WindowData) writeHTML(w io.Writer, nav *navView) error {
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		loc = time.UTC
	}
	t, err := localTemplate(loc)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "window", struct {
		D   *WindowData
		Nav *navView
	}{d, nav}); err != nil {
		return fmt.Errorf("render window page: %w", err)
	}
	_, err = io.WriteString(w, cleanHTML(b.String()))
	return err
}
