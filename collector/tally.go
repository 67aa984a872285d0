package collector

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

// Tally counts events by how far they were understood and by message id. It is not safe for
// concurrent use; its memory is bounded by the number of distinct ids (ASA ids are numbers, IOS
// mnemonics are capped at maxMnemonics, beyond which they count as "other").
type Tally struct {
	Lines, Typed, Header, Unparsed, Oversize int64

	asa map[uint32]int64
	ios map[string]int64
}

const maxMnemonics = 1024

// Add counts one event.
func (t *Tally) Add(ev *ciscolog.Event) {
	if t.asa == nil {
		t.asa = make(map[uint32]int64)
		t.ios = make(map[string]int64)
	}
	t.Lines++
	switch ev.Kind {
	case ciscolog.KindTyped:
		t.Typed++
	case ciscolog.KindHeader:
		t.Header++
	default:
		t.Unparsed++
		return
	}
	switch ev.Family {
	case ciscolog.FamilyASA:
		t.asa[ev.MsgID]++
	case ciscolog.FamilyIOS:
		key := ev.Facility + "-" + ev.Mnemonic // allocates; IOS volume is small
		if _, ok := t.ios[key]; ok || len(t.ios) < maxMnemonics {
			t.ios[key]++
		} else {
			t.ios["other"]++
		}
	}
}

// Merge adds o's counts to t.
func (t *Tally) Merge(o *Tally) {
	if t.asa == nil {
		t.asa = make(map[uint32]int64)
		t.ios = make(map[string]int64)
	}
	t.Lines += o.Lines
	t.Typed += o.Typed
	t.Header += o.Header
	t.Unparsed += o.Unparsed
	t.Oversize += o.Oversize
	for k, v := range o.asa {
		t.asa[k] += v
	}
	for k, v := range o.ios {
		t.ios[k] += v
	}
}

// ByID returns the counts per message id ("ASA-302013", "SEC-IPACCESSLOGP"), largest first.
func (t *Tally) ByID() []IDCount {
	out := make([]IDCount, 0, len(t.asa)+len(t.ios))
	for id, n := range t.asa {
		out = append(out, IDCount{ID: "ASA-" + strconv.FormatUint(uint64(id), 10), Count: n})
	}
	for id, n := range t.ios {
		out = append(out, IDCount{ID: id, Count: n})
	}
	slices.SortFunc(out, func(a, b IDCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// IDCount is one row of Tally.ByID.
type IDCount struct {
	ID    string
	Count int64
}

// WriteText writes a human summary: totals, the unparsed share and counts per id.
func (t *Tally) WriteText(w io.Writer) error {
	share := 0.0
	if t.Lines > 0 {
		share = 100 * float64(t.Unparsed) / float64(t.Lines)
	}
	_, err := fmt.Fprintf(w, "lines %d  typed %d  header-only %d  unparsed %d (%.2f%%)  oversize %d\n",
		t.Lines, t.Typed, t.Header, t.Unparsed, share, t.Oversize)
	if err != nil {
		return err
	}
	for _, r := range t.ByID() {
		if _, err := fmt.Fprintf(w, "%10d  %s\n", r.Count, r.ID); err != nil {
			return err
		}
	}
	return nil
}
