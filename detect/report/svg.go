package report

import (
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Hand-written SVG: a few helpers (a linear scale, nice ticks, a document that escapes every
// string it is given) and one function per chart. Output is deterministic: numbers are
// formatted with one decimal and elements are written in data order.

// scale maps a domain [d0, d1] linearly onto a range [r0, r1].
type scale struct{ d0, d1, r0, r1 float64 }

func (s scale) at(v float64) float64 {
	if s.d1 == s.d0 {
		return s.r0
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// niceTicks returns 0 and multiples of a 1-2-5 step up to at least max, about n of them.
func niceTicks(max float64, n int) []float64 {
	if max <= 0 || n < 1 {
		return []float64{0, 1}
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := 0.0; ; v += step {
		ticks = append(ticks, v)
		if v >= max {
			break
		}
	}
	return ticks
}

// svgDoc builds one <svg> element. Every text and attribute value passed to it is escaped;
// class names are constants of this package.
type svgDoc struct {
	b    strings.Builder
	w, h float64
}

func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

func newSVG(w, h float64, label string) *svgDoc {
	s := &svgDoc{w: w, h: h}
	s.b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 `)
	s.b.WriteString(num(w) + " " + num(h) + `" width="` + num(w) + `" height="` + num(h))
	s.b.WriteString(`" role="img" aria-label="` + html.EscapeString(label) + `">`)
	return s
}

func (s *svgDoc) rect(x, y, w, h float64, class, tip string) {
	s.b.WriteString(`<rect x="` + num(x) + `" y="` + num(y) + `" width="` + num(math.Max(w, 0)) + `" height="` + num(math.Max(h, 0)) + `" class="` + class + `"`)
	if tip == "" {
		s.b.WriteString("/>")
		return
	}
	s.b.WriteString("><title>" + html.EscapeString(tip) + "</title></rect>")
}

func (s *svgDoc) text(x, y float64, anchor, class, t string) {
	s.b.WriteString(`<text x="` + num(x) + `" y="` + num(y) + `" text-anchor="` + anchor + `" class="` + class + `">` + html.EscapeString(t) + "</text>")
}

func (s *svgDoc) line(x1, y1, x2, y2 float64, class string) {
	s.b.WriteString(`<line x1="` + num(x1) + `" y1="` + num(y1) + `" x2="` + num(x2) + `" y2="` + num(y2) + `" class="` + class + `"/>`)
}

func (s *svgDoc) polyline(xs, ys []float64, class string) {
	s.b.WriteString(`<polyline class="` + class + `" points="`)
	for i := range xs {
		if i > 0 {
			s.b.WriteByte(' ')
		}
		s.b.WriteString(num(xs[i]) + "," + num(ys[i]))
	}
	s.b.WriteString(`"/>`)
}

func (s *svgDoc) circle(x, y, r float64, class, tip string) {
	s.b.WriteString(`<circle cx="` + num(x) + `" cy="` + num(y) + `" r="` + num(r) + `" class="` + class + `"><title>` + html.EscapeString(tip) + "</title></circle>")
}

// html returns the finished element. It is safe to embed: everything variable was escaped.
func (s *svgDoc) html() template.HTML {
	return template.HTML(s.b.String() + "</svg>") //nolint:gosec // built only from escaped text and numbers
}

// truncate shortens s to n runes with an ellipsis, for chart labels (tables show it whole).
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// peerClasses are the colours of a server group's top peers; other external and internal
// bytes have their own.
const peerColours = 6

type legendItem struct {
	Class, Label string
}

// serverColours assigns colour classes to the group's top peers by their bytes over the whole
// group, so one peer has one colour in every bar.
func serverColours(g ServerGroup) (map[string]string, []legendItem) {
	totals := map[string]uint64{}
	var order []string
	for _, s := range g.Servers {
		for _, p := range s.Peers {
			k := PeerLabel(p.Peer)
			if _, ok := totals[k]; !ok {
				order = append(order, k)
			}
			totals[k] += p.Bytes
		}
	}
	// stable: by bytes descending, then first appearance
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && totals[order[j]] > totals[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	colours := map[string]string{}
	var legend []legendItem
	for i, k := range order {
		if i == peerColours {
			break
		}
		c := "c" + strconv.Itoa(i)
		colours[k] = c
		legend = append(legend, legendItem{c, k})
	}
	legend = append(legend, legendItem{"cx", "other external"}, legendItem{"ci", "internal"})
	return colours, legend
}

// serverChart draws one stacked horizontal bar per server: its top peers' bytes in their
// group colours, other external bytes and internal bytes.
func serverChart(g ServerGroup) template.HTML {
	colours, _ := serverColours(g)
	const (
		labelW = 150.0
		barW   = 400.0
		valueW = 80.0
		rowH   = 24.0
		top    = 6.0
	)
	var max uint64
	for _, s := range g.Servers {
		max = maxU(max, s.Bytes)
	}
	h := top*2 + rowH*float64(len(g.Servers))
	doc := newSVG(labelW+barW+valueW, h, g.Title+": bytes per server by external peer")
	x := scale{0, float64(max), labelW, labelW + barW}
	for i, s := range g.Servers {
		y := top + rowH*float64(i)
		doc.text(labelW-6, y+rowH/2+4, "end", "lbl", truncate(s.Name, 22))
		at := 0.0
		seg := func(v uint64, class, tip string) {
			if v == 0 {
				return
			}
			x0, x1 := x.at(at), x.at(at+float64(v))
			doc.rect(x0, y+3, x1-x0, rowH-6, class, tip)
			at += float64(v)
		}
		other := s.OtherExternal
		for _, p := range s.Peers {
			k := PeerLabel(p.Peer)
			if c, ok := colours[k]; ok {
				seg(p.Bytes, c, s.Name+" ↔ "+k+": "+fmtBytes(p.Bytes))
			} else {
				other += p.Bytes
			}
		}
		seg(other, "cx", s.Name+" ↔ other external: "+fmtBytes(other))
		seg(s.Internal, "ci", s.Name+" internal: "+fmtBytes(s.Internal))
		doc.text(x.at(at)+6, y+rowH/2+4, "start", "val", fmtBytes(s.Bytes))
	}
	return doc.html()
}

// inlineBar is a small bar for a table cell.
func inlineBar(v, max uint64, class string) template.HTML {
	const w, h = 140.0, 12.0
	doc := newSVG(w, h, fmtBytes(v))
	if max > 0 && v > 0 {
		doc.rect(0, 1, math.Max(1, w*float64(v)/float64(max)), h-2, class, "")
	}
	return doc.html()
}

// trafficChart draws the three days as lines over the 24 hours, with the marked hours shaded
// and circled.
func trafficChart(t TrafficSection) template.HTML {
	const (
		w, h                     = 760.0, 300.0
		left, right, top, bottom = 76.0, 16.0, 30.0, 34.0
	)
	doc := newSVG(w, h, "site bytes per hour: the day against the day before and two days before")
	n := len(t.Hours)
	if n == 0 {
		return doc.html()
	}
	var max uint64
	for _, th := range t.Hours {
		max = maxU(max, maxU(th.Bytes, maxU(th.DayBefore, th.TwoDaysBefore)))
	}
	ticks := niceTicks(float64(max), 5)
	ymax := ticks[len(ticks)-1]
	xs := scale{0, float64(n - 1), left + 10, w - right - 10}
	ys := scale{0, ymax, h - bottom, top}
	step := xs.at(1) - xs.at(0)
	for i, th := range t.Hours { // shading first, under the lines
		if th.Marked {
			doc.rect(xs.at(float64(i))-step/2, top, step, h-bottom-top, "mark", th.Label+" stands out: "+fmtBytes(th.Bytes)+" against a median of "+fmtBytes(uint64(th.Median)))
		}
	}
	for _, v := range ticks {
		y := ys.at(v)
		doc.line(left, y, w-right, y, "grid")
		doc.text(left-6, y+4, "end", "tick", fmtBytes(uint64(v)))
	}
	doc.line(left, h-bottom, w-right, h-bottom, "axis")
	doc.line(left, top, left, h-bottom, "axis")
	for i, th := range t.Hours {
		if i%3 == 0 || i == n-1 {
			x := xs.at(float64(i))
			doc.line(x, h-bottom, x, h-bottom+4, "axis")
			doc.text(x, h-bottom+17, "middle", "tick", th.Label)
		}
	}
	series := []struct {
		class, label string
		v            func(TrafficHour) uint64
	}{
		{"l2", "two days before", func(th TrafficHour) uint64 { return th.TwoDaysBefore }},
		{"l1", "day before", func(th TrafficHour) uint64 { return th.DayBefore }},
		{"l0", "this day", func(th TrafficHour) uint64 { return th.Bytes }},
	}
	for _, s := range series {
		px, py := make([]float64, n), make([]float64, n)
		for i, th := range t.Hours {
			px[i], py[i] = xs.at(float64(i)), ys.at(float64(s.v(th)))
		}
		doc.polyline(px, py, s.class)
	}
	below := false // labels of consecutive marked hours alternate above and below the line
	for i, th := range t.Hours {
		if !th.Marked {
			below = false
			continue
		}
		x, y := xs.at(float64(i)), ys.at(float64(th.Bytes))
		doc.circle(x, y, 5, "dot", th.Label+": "+fmtBytes(th.Bytes))
		ly := math.Max(y-9, top-4)
		if below {
			ly = math.Min(y+19, h-bottom-4)
		}
		doc.text(x, ly, "middle", "marklbl", fmtBytes(th.Bytes))
		below = !below
	}
	// legend across the top
	lx := left
	for i := len(series) - 1; i >= 0; i-- {
		s := series[i]
		doc.line(lx, 12, lx+24, 12, s.class)
		doc.text(lx+30, 16, "start", "lbl", s.label)
		lx += 30 + 7.5*float64(len(s.label)) + 24
	}
	doc.rect(lx, 5, 14, 14, "mark", "")
	doc.text(lx+20, 16, "start", "lbl", "hour that stands out")
	return doc.html()
}

// termChart draws one score bar per term.
func termChart(f TermField) template.HTML {
	const (
		labelW = 190.0
		barW   = 300.0
		valueW = 60.0
		rowH   = 20.0
	)
	var max float64
	for _, t := range f.Terms {
		max = math.Max(max, t.Score)
	}
	doc := newSVG(labelW+barW+valueW, rowH*float64(len(f.Terms))+8, f.Title+": significance scores")
	x := scale{0, max, labelW, labelW + barW}
	for i, t := range f.Terms {
		y := 4 + rowH*float64(i)
		doc.text(labelW-6, y+rowH/2+4, "end", "lbl", truncate(t.Term, 26))
		doc.rect(labelW, y+3, x.at(t.Score)-labelW, rowH-6, "c0", t.Term+": "+fmtScore(t.Score))
		doc.text(x.at(t.Score)+5, y+rowH/2+4, "start", "val", fmtScore(t.Score))
	}
	return doc.html()
}
