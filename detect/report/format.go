package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"

	"github.com/firebreak-dev/firebreak/display"
)

func protoName(p uint8) string { return stats.ProtoName(p) }

// fmtBytes renders a byte count with a decimal unit: "512 B", "3.4 MB", "1.21 GB", "236.5 kB".
func fmtBytes(b uint64) string {
	const unit = 1000
	if b < unit {
		return strconv.FormatUint(b, 10) + " B"
	}
	v, exp := float64(b), 0
	for v >= unit && exp < 5 {
		v /= unit
		exp++
	}
	prec := 1
	if v < 10 {
		prec = 2
	}
	n := strconv.FormatFloat(v, 'f', prec, 64)
	if v >= 100 {
		n = strings.TrimSuffix(n, ".0") // 745 MB, 236.5 kB
	}
	return n + " " + string(" kMGTP"[exp]) + "B"
}

// fmtCount groups thousands: 12,345.
func fmtCount(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

func fmtScore(f float64) string { return strconv.FormatFloat(f, 'g', 3, 64) }

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// clean makes untrusted text safe for a terminal or a plain-text mail (display.Text).
func clean(s string) string { return display.Text(s) }
