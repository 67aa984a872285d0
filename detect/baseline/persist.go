package baseline

import "math"

// Rule names which persistence rule fired.
type Rule uint8

// Rules, in the order Decide tries them.
const (
	RuleNone   Rule = iota
	RuleKOfM        // at least K of the last M hours were candidates
	RuleWindow      // the window sum exceeded the sum of its baselines
)

// String returns "none", "k-of-m" or "window".
func (r Rule) String() string {
	switch r {
	case RuleKOfM:
		return "k-of-m"
	case RuleWindow:
		return "window"
	}
	return "none"
}

// MarshalText makes a Rule read as its name in JSON findings.
func (r Rule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Persistence turns per-hour candidates into a decision to fire, in the
// spirit of Elastic's multi-bucket impact: one anomalous hour is not enough.
// The zero value uses the defaults in the field comments.
type Persistence struct {
	// K of the last M hours must be candidates; defaults 2 and 3.
	K, M int
	// Window is the length in hours of the sustained-excess rule; default
	// 12. A negative Window disables that rule.
	Window int
}

func (p Persistence) withDefaults() Persistence {
	if p.K <= 0 {
		p.K = 2
	}
	if p.M <= 0 {
		p.M = 3
	}
	p.M = max(p.M, p.K)
	if p.Window == 0 {
		p.Window = 12
	}
	return p
}

// Decision is the outcome of Persistence.Decide for the newest hour.
type Decision struct {
	Fire bool
	// Rule is the rule that fired (RuleKOfM is preferred when both do).
	Rule Rule
	// Hits is the number of candidates among the last M hours.
	Hits int
	// Window is the window-sum judgement (MethodWindowSum), or a zero
	// Result with MethodNone when the window rule could not be applied.
	Window Result
}

// Decide judges the newest hour of hours, consecutive hourly Results oldest
// first (as EvaluateRange returns them). It fires when at least K of the last
// M hours are candidates, or when the sum of X over the last Window hours,
// set against the sum of their medians with scale sqrt(Σσ̂²), passes the
// same gates as a single hour under cfg (Z, Ratio, MinExcess; pass a
// different cfg to gate sums differently). The window rule is applied only
// when all Window hours have a baseline; sqrt(Σσ̂²) treats hours as
// independent, which overstates z for traffic that is correlated hour to
// hour, so keep the Ratio and MinExcess gates meaningful.
func (p Persistence) Decide(hours []Result, cfg Config) Decision {
	p = p.withDefaults()
	var d Decision
	for i := max(0, len(hours)-p.M); i < len(hours); i++ {
		if hours[i].Candidate {
			d.Hits++
		}
	}
	if d.Hits >= p.K {
		d.Fire, d.Rule = true, RuleKOfM
	}
	if p.Window > 0 && len(hours) >= p.Window {
		d.Window = WindowSum(hours[len(hours)-p.Window:], cfg)
		if !d.Fire && d.Window.Candidate {
			d.Fire, d.Rule = true, RuleWindow
		}
	}
	return d
}

// WindowSum judges the sum of X over hours against the sum of their medians,
// with MAD and σ̂ combined as sqrt(Σ²) and σ̂ floored at cfg.AbsFloor, under
// the gates of cfg. It returns a Result with MethodWindowSum, Start of the
// first hour and N the number of hours, or MethodNone if any hour lacks a
// baseline.
func WindowSum(hours []Result, cfg Config) Result {
	if len(hours) == 0 {
		return Result{}
	}
	c := cfg.withDefaults()
	r := Result{Start: hours[0].Start, N: len(hours)}
	var mad2, sig2 float64
	for _, h := range hours {
		if h.Method == MethodNone {
			return Result{Start: hours[0].Start}
		}
		r.X += h.X
		r.Median += h.Median
		mad2 += h.MAD * h.MAD
		sig2 += h.Sigma * h.Sigma
	}
	r.MAD = math.Sqrt(mad2)
	r.Sigma = max(math.Sqrt(sig2), c.AbsFloor)
	r.Method = MethodWindowSum
	gate(&r, &c)
	return r
}
