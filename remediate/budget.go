package remediate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
)

// DetectorProposalBudget names the findings that say the proposal budget was hit: findings
// that would have made proposals were left out because too many of that kind wait for a
// person or were made in the last 24 hours (remediation.max_open_proposals,
// max_new_proposals_per_day).
const DetectorProposalBudget = "proposal_budget"

// proposeChunk is how many proposals one write transaction makes or updates. The store's
// write lock is the collector's too (every flush takes it), so no transaction may hold it
// for long, whatever the number of findings.
const proposeChunk = 64

// candidate is one proposal Propose would make or update, as the budget sees it.
type candidate struct {
	key  string // targetKey
	kind Kind
	refs []FindingRef
}

// budgetUse is what one kind has used of the budget.
type budgetUse struct {
	open, recent, left int
}

// withinBudget decides which candidates Propose handles (their indices, in order): those that
// update an open or applied proposal always (they make nothing new), new ones by the highest
// severity of their findings, then by the number of findings, while the kind's budget lasts.
// Candidates covered by a rejected proposal holding every finding are kept too (Propose skips
// them). It reads the store in one read transaction.
func (m *Manager) withinBudget(ctx context.Context, cs []candidate, now time.Time) (keep []int, use map[Kind]*budgetUse, err error) {
	maxOpen, maxDay := m.pol.Remediation.MaxOpenProposals, m.pol.Remediation.MaxNewProposalsPerDay
	known := map[string]bool{}            // target keys with an open or applied proposal: it absorbs findings
	rejected := map[string][]FindingRef{} // findings of the latest rejected proposal per target key
	use = map[Kind]*budgetUse{}
	u := func(k Kind) *budgetUse {
		if use[k] == nil {
			use[k] = &budgetUse{}
		}
		return use[k]
	}
	err = m.st.View(ctx, func(tx *stats.RecordTx) error {
		all, err := listTx(tx)
		if err != nil {
			return err
		}
		for i := range all {
			p := &all[i]
			if p.State.Open() {
				u(p.Kind).open++
			}
			if now.Sub(p.CreatedAt) < 24*time.Hour {
				u(p.Kind).recent++
			}
			switch k := p.targetKey(); {
			case p.State.Open() || p.State == StateApplied:
				known[k] = true
			case p.State == StateRejected:
				rejected[k] = p.Findings
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("propose: budget: %w", err)
	}
	rank := func(c candidate) int {
		r := 0
		for _, f := range c.refs {
			r = max(r, detect.Severity(f.Severity).Rank())
		}
		return r
	}
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(-cmp.Compare(rank(cs[a]), rank(cs[b])), -cmp.Compare(len(cs[a].refs), len(cs[b].refs)))
	})
	for _, i := range order {
		c := cs[i]
		if known[c.key] || (rejected[c.key] != nil && allIn(c.refs, rejected[c.key])) {
			keep = append(keep, i)
			continue
		}
		b := u(c.kind)
		if (c.kind != KindRemoval && b.open >= maxOpen) || b.recent >= maxDay {
			b.left++
			continue
		}
		b.open++
		b.recent++
		keep = append(keep, i)
	}
	slices.Sort(keep) // made in the order asked for
	return keep, use, nil
}

// reportBudget stores one proposal_budget finding per kind whose budget left findings out
// (its count says how many, this run), so the cap is seen where findings are read.
func (m *Manager) reportBudget(ctx context.Context, use map[Kind]*budgetUse, now time.Time) error {
	var fs []detect.Finding
	r := m.pol.Remediation
	for _, k := range slices.Sorted(func(yield func(Kind) bool) {
		for k := range use {
			if !yield(k) {
				return
			}
		}
	}) {
		b := use[k]
		if b.left == 0 {
			continue
		}
		fs = append(fs, detect.Finding{
			Key: DetectorProposalBudget + "|" + string(k), Detector: DetectorProposalBudget, Severity: detect.SeverityMedium,
			Title: fmt.Sprintf("proposal budget hit: %d %s proposal(s) not made", b.left, k),
			Evidence: detect.Evidence{
				Summary: fmt.Sprintf("%d findings asked for a %s proposal beyond the budget (%d open of max_open_proposals %d, %d made in 24h of max_new_proposals_per_day %d); a flood of forged syslog looks like this: review the findings, or raise the caps",
					b.left, k, b.open, r.MaxOpenProposals, b.recent, r.MaxNewProposalsPerDay),
				Window: detect.TimeRange{From: now.Add(-24 * time.Hour), To: now},
				Counts: map[string]float64{"not_proposed": float64(b.left), "open": float64(b.open), "made_24h": float64(b.recent),
					"max_open_proposals": float64(r.MaxOpenProposals), "max_new_proposals_per_day": float64(r.MaxNewProposalsPerDay)},
			},
			FirstSeen: now, LastSeen: now,
		})
	}
	if len(fs) == 0 {
		return nil
	}
	m.log.Warn("proposal budget hit", "kinds", len(fs))
	_, err := detect.NewStore(m.st, 0).Upsert(ctx, []string{DetectorProposalBudget}, detect.TimeRange{From: now.Add(-24 * time.Hour), To: now},
		fs, func(string) time.Duration { return 0 }, now)
	return err
}
