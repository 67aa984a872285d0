package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/firebreak-dev/firebreak/detect"
)

// The text and markdown renderers share one list of blocks built from Data; each escapes the
// blocks' strings for its own format.
type blockKind uint8

const (
	blockHeading blockKind = iota + 1
	blockSubheading
	blockPara
	blockTable
	blockPre
)

type block struct {
	kind  blockKind
	text  string     // heading, paragraph or preformatted text
	head  []string   // table header
	rows  [][]string // table rows
	right []bool     // right-aligned columns
}

func (d *Data) loc() *time.Location {
	if l, err := time.LoadLocation(d.Timezone); err == nil && d.Timezone != "" {
		return l
	}
	return time.UTC
}

func bar(v, max uint64, width int) string {
	if max == 0 || v == 0 {
		return ""
	}
	n := int(float64(v) / float64(max) * float64(width))
	if n == 0 {
		n = 1
	}
	return strings.Repeat("#", n)
}

func (d *Data) blocks() []block {
	loc := d.loc()
	var bs []block
	add := func(b block) { bs = append(bs, b) }
	h := func(s string) { add(block{kind: blockHeading, text: s}) }
	sub := func(s string) { add(block{kind: blockSubheading, text: s}) }
	p := func(s string) {
		if s != "" {
			add(block{kind: blockPara, text: s})
		}
	}

	add(block{kind: blockHeading, text: fmt.Sprintf("firebreak report: %s", d.Site)})
	p(fmt.Sprintf("Window %s to %s (%s). Generated %s.", fmtTime(d.Window.From, loc), fmtTime(d.Window.To, loc),
		Age(d.Window.To.Sub(d.Window.From)), fmtTime(d.GeneratedAt, loc)))
	p(fmt.Sprintf("Findings: %d new, %d ongoing. Proposals waiting: %d. Active blocks: %d.",
		len(d.Findings.New), len(d.Findings.Ongoing), len(d.Proposals.Pending), len(d.Blocks.Active)))

	h("Findings")
	p(d.Findings.Note)
	for _, part := range []struct {
		title   string
		fs      []findingRow
		details bool
	}{{"New", findingRows(d.Findings.New, loc), true}, {"Ongoing", findingRows(d.Findings.Ongoing, loc), false}} {
		if len(part.fs) == 0 {
			continue
		}
		sub(part.title)
		t := block{kind: blockTable, head: []string{"ID", "Severity", "Detector", "Title", "Status", "First seen", "Last seen", "Runs"}, right: []bool{7: true}}
		for _, f := range part.fs {
			t.rows = append(t.rows, f.cells)
		}
		add(t)
		if !part.details {
			p("Evidence of ongoing findings: firebreak findings show ID.")
			continue
		}
		for _, f := range part.fs {
			if f.summary != "" {
				p(f.id + ": " + f.summary)
			}
			if len(f.lines) > 0 {
				add(block{kind: blockPre, text: strings.Join(f.lines, "\n")})
			}
		}
	}

	h("Pending proposals")
	p(d.Proposals.Note)
	if len(d.Proposals.Pending) > 0 {
		t := block{kind: blockTable, head: []string{"ID", "Kind", "Target", "State", "Age", "Findings", "Why"}}
		for _, pr := range d.Proposals.Pending {
			t.rows = append(t.rows, []string{pr.ID, pr.Kind, pr.Target, pr.State, pr.Age.String(), strings.Join(pr.Findings, ","), pr.Reason})
		}
		add(t)
	}
	if len(d.Proposals.Ineffective) > 0 {
		p("Not offered: the data-path model says these changes would stop nothing (stored as ineffective).")
		t := block{kind: blockTable, head: []string{"ID", "Kind", "Target", "Findings", "Why not"}}
		for _, pr := range d.Proposals.Ineffective {
			t.rows = append(t.rows, []string{pr.ID, pr.Kind, pr.Target, strings.Join(pr.Findings, ","), pr.Ineffective})
		}
		add(t)
	}
	for _, pr := range d.Proposals.Pending {
		if pr.Diff == "" && len(pr.CLI) == 0 && len(pr.Effect) == 0 {
			continue
		}
		sub(fmt.Sprintf("%s: %s %s (%s, %s old)", pr.ID, pr.Kind, pr.Target, pr.State, pr.Age))
		if len(pr.Findings) > 0 {
			p("Findings: " + strings.Join(pr.Findings, ", "))
		}
		p(pr.Reason)
		if pr.Advisory != "" {
			p("Advice: " + pr.Advisory)
		}
		if len(pr.Effect) > 0 {
			p("Effect (data-path model: verdict before -> after):")
			add(block{kind: blockPre, text: strings.Join(pr.Effect, "\n")})
		}
		if pr.Diff != "" {
			add(block{kind: blockPre, text: strings.TrimRight(pr.Diff, "\n")})
		}
		if len(pr.CLI) > 0 {
			p("Commands that would be sent:")
			add(block{kind: blockPre, text: strings.Join(pr.CLI, "\n")})
		}
	}

	h("Active blocks")
	p(d.Blocks.Note)
	if len(d.Blocks.Active) > 0 {
		t := block{kind: blockTable, head: []string{"ID", "Target", "Applied", "Age", "Hits", "Denies since", "Still needed"}, right: []bool{4: true, 5: true}}
		for _, b := range d.Blocks.Active {
			t.rows = append(t.rows, []string{b.ID, b.Target, fmtTime(b.AppliedAt, loc), b.Age.String(),
				fmtCount(b.HitCount), fmtCount(b.DeniesSince), b.StillNeeded})
		}
		add(t)
	}

	h("Servers by external peer")
	p(d.Servers.Note)
	for _, g := range d.Servers.Groups {
		sub(g.Title)
		var max uint64
		for _, s := range g.Servers {
			max = maxU(max, s.Bytes)
		}
		t := block{kind: blockTable, head: []string{"Server", "Address", "Bytes", "", "Top external peers", "Other external", "Internal"}, right: []bool{2: true, 5: true, 6: true}}
		for _, s := range g.Servers {
			var peers []string
			for _, pb := range s.Peers {
				peers = append(peers, PeerLabel(pb.Peer)+" "+fmtBytes(pb.Bytes))
			}
			t.rows = append(t.rows, []string{s.Name, s.Host.String(), fmtBytes(s.Bytes), bar(s.Bytes, max, 20),
				strings.Join(peers, ", "), fmtBytes(s.OtherExternal), fmtBytes(s.Internal)})
		}
		add(t)
		if g.Omitted > 0 {
			p(fmt.Sprintf("%d more servers with less traffic not shown.", g.Omitted))
		}
	}

	h("Printers talking to external addresses")
	p(d.Printers.Note)
	if len(d.Printers.Rows) > 0 {
		var max uint64
		for _, r := range d.Printers.Rows {
			max = maxU(max, r.Bytes)
		}
		t := block{kind: blockTable, head: []string{"Printer", "Address", "External peer", "Port", "Bytes", "", "Connections"}, right: []bool{4: true, 6: true}}
		for _, r := range d.Printers.Rows {
			t.rows = append(t.rows, []string{r.Name, r.Printer.String(), PeerLabel(r.Peer), PortLabel(r.Proto, r.Port),
				fmtBytes(r.Bytes), bar(r.Bytes, max, 20), fmtCount(r.Conns)})
		}
		add(t)
	}

	h("Traffic by hour")
	p(d.Traffic.Note)
	if len(d.Traffic.Hours) > 0 {
		p(fmt.Sprintf("Site bytes per hour: day %s, day before %s, two days before %s. Marked (*): %s.",
			fmtBytes(d.Traffic.Totals[0]), fmtBytes(d.Traffic.Totals[1]), fmtBytes(d.Traffic.Totals[2]), d.Traffic.Rule))
		var max uint64
		for _, th := range d.Traffic.Hours {
			max = maxU(max, th.Bytes)
		}
		t := block{kind: blockTable, head: []string{"Hour", "Bytes", "", "Day before", "Two days before", "Baseline", "z", "Marked"}, right: []bool{1: true, 3: true, 4: true, 5: true, 6: true}}
		for _, th := range d.Traffic.Hours {
			mark, z := "", ""
			if th.Marked {
				mark = "*"
			}
			if th.Method != "none" {
				z = fmt.Sprintf("%.1f", th.Z)
			}
			t.rows = append(t.rows, []string{th.Start.In(loc).Format("Mon 15:04"), fmtBytes(th.Bytes), bar(th.Bytes, max, 20),
				fmtBytes(th.DayBefore), fmtBytes(th.TwoDaysBefore), fmtBytes(uint64(th.Median)), z, mark})
		}
		add(t)
	}

	h("Significant terms")
	p(d.Terms.Note)
	for _, f := range d.Terms.Fields {
		sub(fmt.Sprintf("%s (%s): %s documents in the window, %s in the background, %s", f.Title, f.Field,
			fmtCount(uint64(f.FGDocs)), fmtCount(uint64(f.BGDocs)), d.Terms.Heuristic))
		p(f.Note)
		if len(f.Terms) == 0 {
			continue
		}
		t := block{kind: blockTable, head: []string{"Term", "Score", "In window", "In background"}, right: []bool{1: true, 2: true, 3: true}}
		for _, r := range f.Terms {
			t.rows = append(t.rows, []string{r.Term, fmtScore(r.Score), fmtCount(uint64(r.FG)), fmtCount(uint64(r.BG))})
		}
		add(t)
	}
	return bs
}

func maxU(a, b uint64) uint64 {
	if b > a {
		return b
	}
	return a
}

type findingRow struct {
	id, summary string
	cells       []string
	lines       []string
}

func findingRows(fs []detect.Finding, loc *time.Location) []findingRow {
	var rows []findingRow
	for _, f := range fs {
		rows = append(rows, findingRow{
			id: f.ID, summary: f.Evidence.Summary, lines: f.Evidence.Lines,
			cells: []string{f.ID, string(f.Severity), f.Detector, f.Title, f.StatusLabel(loc), fmtTime(f.FirstSeen, loc), fmtTime(f.LastSeen, loc), fmt.Sprint(f.Count)},
		})
	}
	return rows
}

// WriteText writes the report as plain text for a terminal or a mail body. Untrusted text has
// its control characters escaped.
func (d *Data) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	for i, b := range d.blocks() {
		switch b.kind {
		case blockHeading:
			if i > 0 {
				ew.printf("\n")
			}
			t := clean(b.text)
			ew.printf("%s\n%s\n", t, strings.Repeat("=", min(len(t), 78)))
		case blockSubheading:
			ew.printf("\n%s\n", clean(b.text))
		case blockPara:
			ew.printf("%s\n", clean(b.text))
		case blockPre:
			for _, l := range strings.Split(b.text, "\n") {
				ew.printf("    %s\n", clean(l))
			}
		case blockTable:
			tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
			line := func(cells []string) {
				for _, c := range cells {
					fmt.Fprint(tw, clean(c), "\t")
				}
				fmt.Fprint(tw, "\n")
			}
			line(b.head)
			for _, r := range b.rows {
				line(r)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	return ew.err
}

// WriteMarkdown writes the report as GitHub-flavoured markdown. Untrusted text is escaped so it
// cannot add markup, links or HTML; preformatted text is fenced longer than any run of
// backticks it holds.
func (d *Data) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	for i, b := range d.blocks() {
		switch b.kind {
		case blockHeading:
			if i == 0 {
				ew.printf("# %s\n\n", mdEscape(b.text))
			} else {
				ew.printf("## %s\n\n", mdEscape(b.text))
			}
		case blockSubheading:
			ew.printf("### %s\n\n", mdEscape(b.text))
		case blockPara:
			ew.printf("%s\n\n", mdEscape(b.text))
		case blockPre:
			fence := strings.Repeat("`", max(3, longestRun(b.text, '`')+1))
			ew.printf("%s\n%s\n%s\n\n", fence, clean(b.text), fence)
		case blockTable:
			row := func(cells []string) {
				ew.printf("|")
				for _, c := range cells {
					ew.printf(" %s |", mdEscape(c))
				}
				ew.printf("\n")
			}
			row(b.head)
			ew.printf("|")
			for j := range b.head {
				if j < len(b.right) && b.right[j] {
					ew.printf("---:|")
				} else {
					ew.printf("---|")
				}
			}
			ew.printf("\n")
			for _, r := range b.rows {
				row(r)
			}
			ew.printf("\n")
		}
	}
	return ew.err
}

// mdEscape backslash-escapes markdown punctuation and replaces what could open HTML.
func mdEscape(s string) string {
	s = clean(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '(', ')', '|', '#', '!', '~', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// errWriter keeps the first write error so the renderers can write without checking each call.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
