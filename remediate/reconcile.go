package remediate

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// Drift kinds.
const (
	DriftConfig = "config" // applied entries missing from the running configuration
	DriftShun   = "shun"   // an owned shun missing from `show shun` (lost on a reload or failover)
)

// Audit actions of reconciliation.
const (
	ActionDrift  = "drift"
	ActionReshun = "reshun"
)

// Drift is a difference between an applied proposal and its device, as the
// last reconciliation found it. Repaired is set when firebreak put it right
// (a lost shun placed again); config drift is only reported: a person
// removed the entries, or the device lost unsaved changes, and re-adding
// them needs an approval.
type Drift struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Detail   string    `json:"detail"`
	Repaired bool      `json:"repaired,omitempty"`
}

// ReconcileReport is the stored summary of the last reconciliation.
type ReconcileReport struct {
	At       time.Time `json:"at"`
	Checked  int       `json:"checked"` // applied proposals compared with their device
	Drift    int       `json:"drift"`   // of them, with drift not repaired
	Repaired int       `json:"repaired"`
	Errors   []string  `json:"errors,omitempty"`
	// Clocks is each device's clock minus firebreak's, from `show clock`.
	Clocks   []DeviceClock `json:"clocks,omitempty"`
	Warnings []string      `json:"warnings,omitempty"` // clocks off by more than MaxClockSkew
}

// DeviceClock is one device's clock skew at a reconciliation.
type DeviceClock struct {
	Device      string  `json:"device"`
	SkewSeconds float64 `json:"skew_seconds"`
}

const metaReconcile = "reconcile"

// Reconcile compares every applied block, quarantine and SAN fix with its
// device: the applied changes against the running configuration, and each
// shun firebreak owns and has not ended against `show shun`. Both reads are
// read-only sessions. A lost owned shun (the device reloaded or failed
// over) is placed again in privileged EXEC, after `show shun ADDR` says it
// is still absent, and verified; any other difference is recorded as the
// proposal's Drift, with an audit entry when it first appears. The summary
// is stored (LastReconcile) for status, metrics and the report.
func (m *Manager) Reconcile(ctx context.Context, now time.Time) (ReconcileReport, error) {
	rep := ReconcileReport{At: now}
	all, err := m.List(ctx)
	if err != nil {
		return rep, err
	}
	byDev := map[string][]Proposal{}
	var order []string
	for _, p := range all {
		if p.State != StateApplied || p.Kind == KindRemoval || p.Kind == KindAdvisory {
			continue
		}
		if byDev[p.Device] == nil {
			order = append(order, p.Device)
		}
		byDev[p.Device] = append(byDev[p.Device], p)
	}
	var errs []error
	for _, name := range order {
		if err := m.reconcileDevice(ctx, name, byDev[name], now, &rep); err != nil {
			errs = append(errs, err)
			rep.Errors = append(rep.Errors, err.Error())
		}
	}
	if err := m.st.Update(ctx, func(tx *stats.RecordTx) error { return tx.Put(nsMeta, metaReconcile, rep, 0) }); err != nil {
		errs = append(errs, fmt.Errorf("store reconciliation: %w", err))
	}
	return rep, errors.Join(errs...)
}

// LastReconcile returns the summary of the last reconciliation (ok false:
// none yet).
func (m *Manager) LastReconcile(ctx context.Context) (ReconcileReport, bool, error) {
	var rep ReconcileReport
	var ok bool
	err := m.st.View(ctx, func(tx *stats.RecordTx) error {
		var err error
		ok, err = tx.Get(nsMeta, metaReconcile, &rep)
		return err
	})
	return rep, ok, err
}

func (m *Manager) reconcileDevice(ctx context.Context, name string, ps []Proposal, now time.Time, rep *ReconcileReport) error {
	if m.pusher == nil {
		return ErrNoPusher
	}
	dev, err := m.device(name)
	if err != nil {
		return err
	}
	// Under the device lock: a push in progress would look like drift.
	unlock, err := m.lockDevice(ctx, dev.Name)
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", dev.Name, err)
	}
	defer unlock()
	running, err := m.pusher.RunningConfig(ctx, dev)
	if err != nil {
		return fmt.Errorf("reconcile %s: read config: %w", dev.Name, err)
	}
	cfg, err := asaconfig.Parse([]byte(running))
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", dev.Name, err)
	}
	shuns, err := m.pusher.Show(ctx, dev, "show shun")
	if err != nil {
		return fmt.Errorf("reconcile %s: show shun: %w", dev.Name, err)
	}
	var errs []error
	if skew, err := m.clockSkew(ctx, dev, cfg); err != nil {
		errs = append(errs, fmt.Errorf("reconcile %s: %w", dev.Name, err))
	} else {
		rep.Clocks = append(rep.Clocks, DeviceClock{Device: dev.Name, SkewSeconds: skew.Seconds()})
		if skewed(skew) {
			rep.Warnings = append(rep.Warnings, skewNote(dev.Name, skew))
		}
	}
	for _, p := range ps {
		rep.Checked++
		var drift []Drift
		applied, err := p.AppliedChanges()
		if err != nil {
			errs = append(errs, fmt.Errorf("applied changes of %s: %w", p.ID, err))
			continue
		}
		if miss := cfg.Missing(applied); len(miss) > 0 {
			drift = append(drift, Drift{At: now, Kind: DriftConfig, Detail: "running config: " + strings.Join(miss, "; ")})
		}
		if a, ok := hostPrefixOf(p.Target); ok && p.ShunOwned && !p.Unshunned && (p.ShunUntil.IsZero() || now.Before(p.ShunUntil)) && !ShunListed(shuns, a) {
			d := Drift{At: now, Kind: DriftShun, Detail: fmt.Sprintf("shun %s not on the device (reload or failover?)", a)}
			if err := m.reshun(ctx, p, dev.Name, a); err != nil {
				d.Detail += "; re-shun failed: " + err.Error()
				errs = append(errs, err)
			} else {
				d.Detail += "; shunned again"
				d.Repaired = true
				rep.Repaired++
			}
			drift = append(drift, d)
		}
		for _, d := range drift {
			if !d.Repaired {
				rep.Drift++
				break
			}
		}
		if err := m.recordDrift(ctx, p.ID, drift); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reshun places the lost shun of p again (the device lock is held) and
// verifies it; an address the device shuns by now is left alone.
func (m *Manager) reshun(ctx context.Context, p Proposal, device string, a netip.Addr) error {
	dev, err := m.device(device)
	if err != nil {
		return err
	}
	present, _, err := m.shunPresent(ctx, dev, a)
	if err != nil {
		return fmt.Errorf("re-shun %s: %w", p.ID, err)
	}
	if !present {
		lines, err := asaconfig.Shun{Addr: a}.Lines()
		if err != nil {
			return err
		}
		c, err := devices.NewCommand(lines[0])
		if err != nil {
			return err
		}
		if _, err := m.pusher.Exec(ctx, dev, c); err != nil {
			return fmt.Errorf("re-shun %s: %w", p.ID, err)
		}
		if present, _, err = m.shunPresent(ctx, dev, a); err != nil || !present {
			return fmt.Errorf("re-shun %s: show shun does not list %s after it (%v)", p.ID, a, err)
		}
	}
	_, err = m.update(ctx, p.ID, func(tx *stats.RecordTx, q *Proposal) error {
		_, err := move(tx, q, q.State, ActionReshun, System, fmt.Sprintf("shun %s was lost on the device; placed again", a), m.now())
		return err
	})
	return err
}

// recordDrift stores p's drift (nil clears it), with an audit entry when it
// differs from what was recorded before.
func (m *Manager) recordDrift(ctx context.Context, id string, drift []Drift) error {
	_, err := m.update(ctx, id, func(tx *stats.RecordTx, q *Proposal) error {
		if sameDrift(q.Drift, drift) {
			return nil
		}
		q.Drift = drift
		comment := "no drift"
		if len(drift) > 0 {
			var parts []string
			for _, d := range drift {
				parts = append(parts, d.Kind+": "+d.Detail)
			}
			comment = strings.Join(parts, "; ")
		}
		_, err := move(tx, q, q.State, ActionDrift, System, comment, m.now())
		return err
	})
	return err
}

func sameDrift(a, b []Drift) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].Detail != b[i].Detail || a[i].Repaired != b[i].Repaired {
			return false
		}
	}
	return true
}

// OpenDrift is the drift of p not repaired.
func (p *Proposal) OpenDrift() []Drift {
	var out []Drift
	for _, d := range p.Drift {
		if !d.Repaired {
			out = append(out, d)
		}
	}
	return out
}
