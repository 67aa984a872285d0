package detect

import (
	"context"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
)

// SeriesCache is a Stats for a backfill (`firebreak detect --from --to`): the volume
// detector reads six weeks of every host's hours for each day it judges, and day after day
// those windows overlap but for one day. SeriesCache keeps the hourly host series it has read
// and reads from the store only the hours a window adds, so a day's detection costs the same
// whatever the length of the history. Every other query goes to the store. Use it only
// where the past it caches does not change meanwhile (a backfill of closed days).
type SeriesCache struct {
	Stats

	mu       sync.Mutex
	from, to time.Time // the hourly range held, [from, to)
	hosts    map[netip.Addr][]stats.HourBytes
}

// NewSeriesCache wraps s.
func NewSeriesCache(s Stats) *SeriesCache { return &SeriesCache{Stats: s} }

func wholeHour(t time.Time) bool { return !t.IsZero() && t.Unix()%3600 == 0 }

// AllHostBytes answers windows on whole hours from the cache, reading only what lies past the
// hours held; a window that starts before them (or after their end) replaces them. The
// result is the store's for the same window; its slices must not be appended to.
func (c *SeriesCache) AllHostBytes(ctx context.Context, w stats.Window) (map[netip.Addr][]stats.HourBytes, error) {
	if !wholeHour(w.From) || !wholeHour(w.To) || !w.From.Before(w.To) {
		return c.Stats.AllHostBytes(ctx, w)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hosts == nil || w.From.Before(c.from) || !w.From.Before(c.to) {
		all, err := c.Stats.AllHostBytes(ctx, w)
		if err != nil {
			return nil, err
		}
		c.hosts, c.from, c.to = all, w.From, w.To
	} else if w.To.After(c.to) {
		add, err := c.Stats.AllHostBytes(ctx, stats.Window{From: c.to, To: w.To})
		if err != nil {
			return nil, err
		}
		for h, bs := range add {
			c.hosts[h] = append(c.hosts[h], bs...)
		}
		c.to = w.To
	}
	// Let go of the hours before the window: the next day's window starts later still.
	if w.From.After(c.from) {
		for h, bs := range c.hosts {
			i := sort.Search(len(bs), func(i int) bool { return !bs[i].Start().Before(w.From) })
			if i == len(bs) {
				delete(c.hosts, h)
				continue
			}
			c.hosts[h] = bs[i:]
		}
		c.from = w.From
	}
	out := make(map[netip.Addr][]stats.HourBytes, len(c.hosts))
	for h, bs := range c.hosts {
		j := sort.Search(len(bs), func(i int) bool { return !bs[i].Start().Before(w.To) })
		if j > 0 {
			out[h] = bs[:j:j]
		}
	}
	return out, nil
}

// Backfill runs Run for each day from first to last (dates in the site's zone, inclusive), each
// over the window of the given length ending at the next midnight, with one store and
// SeriesCache for all of them; fn receives each day's result. It stops at the first error
// other than ErrDetectors (which fn sees with its result).
func Backfill(ctx context.Context, env *Env, first, last time.Time, window time.Duration, fn func(RunResult, error) error) error {
	e := *env
	e.Stats = NewSeriesCache(env.Stats)
	loc := env.loc()
	for d := first.In(loc); !d.After(last.In(loc)); d = d.AddDate(0, 0, 1) {
		at := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		res, err := Run(ctx, &e, at, window)
		if err := fn(res, err); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
