package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// Record namespaces in the store.
const (
	NSProposals = "proposals"
	NSAudit     = "audit"
	nsMeta      = "remediate"
	metaSeq     = "seq"
)

// System is the actor recorded for what firebreak does on its own (refusals,
// expiry).
const System = "firebreak"

// Options configures a Manager. Zero values take the defaults shown.
type Options struct {
	// Pusher reaches the devices; nil allows everything but device access
	// (offline diffs with a saved config, approvals, listings).
	Pusher Pusher
	// Locker serialises pushes per device; default a Manager-owned one.
	// Share one Locker between Managers of one process.
	Locker *devices.Locker
	// LockDir, when set, is the data folder whose locks/ file locks
	// serialise pushes to one device across processes (devices.LockFile):
	// a push while another process pushes to the device is refused with
	// devices.ErrBusy.
	LockDir string
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default discard
}

// Manager runs proposals against one store and policy. It is safe for
// concurrent use; pushes to one device are serialised by the Locker.
type Manager struct {
	st      *stats.Store
	pol     *policies.Config
	pusher  Pusher
	locker  *devices.Locker
	lockDir string
	now     func() time.Time
	log     *slog.Logger
}

// New returns a Manager. st and pol must stay open and unchanged while it is
// used.
func New(st *stats.Store, pol *policies.Config, o Options) *Manager {
	m := &Manager{st: st, pol: pol, pusher: o.Pusher, locker: o.Locker, lockDir: o.LockDir, now: o.Now, log: o.Logger}
	if m.locker == nil {
		m.locker = &devices.Locker{}
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m
}

// Get returns one proposal.
func (m *Manager) Get(ctx context.Context, id string) (Proposal, error) {
	var p Proposal
	err := m.st.View(ctx, func(tx *stats.RecordTx) error {
		var err error
		p, err = getTx(tx, id)
		return err
	})
	return p, err
}

// List returns every proposal, oldest first.
func (m *Manager) List(ctx context.Context) ([]Proposal, error) {
	var out []Proposal
	err := m.st.View(ctx, func(tx *stats.RecordTx) error {
		var err error
		out, err = listTx(tx)
		return err
	})
	return out, err
}

// Audit returns the audit log entries after seq (0: all), for one proposal
// when id is not empty.
func (m *Manager) Audit(ctx context.Context, id string, after uint64) ([]AuditEntry, error) {
	var out []AuditEntry
	err := m.st.ListLog(ctx, NSAudit, after, func(seq uint64, raw []byte) error {
		var e AuditEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("audit entry %d: %w", seq, err)
		}
		e.Seq = seq
		if id == "" || e.Proposal == id {
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

func getTx(tx *stats.RecordTx, id string) (Proposal, error) {
	var p Proposal
	ok, err := tx.Get(NSProposals, id, &p)
	if err != nil {
		return p, fmt.Errorf("proposal %s: %w", display.Text(id), err)
	}
	if !ok {
		return p, fmt.Errorf("proposal %s: %w", display.Text(id), ErrNotFound)
	}
	return p, nil
}

func listTx(tx *stats.RecordTx) ([]Proposal, error) {
	var out []Proposal
	err := tx.List(NSProposals, func(id string, raw []byte) error {
		var p Proposal
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("proposal %s: %w", id, err)
		}
		out = append(out, p)
		return nil
	})
	slices.SortFunc(out, func(a, b Proposal) int { return int(a.Seq) - int(b.Seq) })
	return out, err
}

// nextID allocates a proposal id inside tx.
func nextID(tx *stats.RecordTx) (string, uint64, error) {
	var seq uint64
	if _, err := tx.Get(nsMeta, metaSeq, &seq); err != nil {
		return "", 0, err
	}
	seq++
	if err := tx.Put(nsMeta, metaSeq, seq, 0); err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("p-%04d", seq), seq, nil
}

// move changes p's state inside tx, writing the record and its audit entry
// together. from == to is allowed for events that are not transitions
// (updates, refused pushes); they must still be listed when they change
// state.
func move(tx *stats.RecordTx, p *Proposal, to State, action, who, comment string, at time.Time) (uint64, error) {
	from := p.State
	if from != "" && (from != to || action == ActionApprove) && !CanMove(from, to) {
		return 0, fmt.Errorf("%s: %s → %s: %w", p.ID, from, to, ErrTransition)
	}
	p.State = to
	p.UpdatedAt = at
	if err := tx.Put(NSProposals, p.ID, p, 0); err != nil {
		return 0, fmt.Errorf("store proposal %s: %w", p.ID, err)
	}
	seq, err := tx.AppendLog(NSAudit, AuditEntry{At: at, Who: who, Proposal: p.ID, Action: action, From: from, To: to, Comment: comment})
	if err != nil {
		return 0, fmt.Errorf("audit %s: %w", p.ID, err)
	}
	return seq, nil
}

// update loads a proposal, lets fn change it and records the transition,
// all in one transaction.
func (m *Manager) update(ctx context.Context, id string, fn func(tx *stats.RecordTx, p *Proposal) error) (Proposal, error) {
	var out Proposal
	err := m.st.Update(ctx, func(tx *stats.RecordTx) error {
		p, err := getTx(tx, id)
		if err != nil {
			return err
		}
		if err := fn(tx, &p); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

// Reject closes a proposal that is not applied. reason is required.
func (m *Manager) Reject(ctx context.Context, id, who, reason string) (Proposal, error) {
	if reason == "" {
		return Proposal{}, errors.New("reject needs a reason")
	}
	return m.update(ctx, id, func(tx *stats.RecordTx, p *Proposal) error {
		_, err := move(tx, p, StateRejected, ActionReject, who, reason, m.now())
		return err
	})
}

// device returns the policy device by name, or the default ASA: the first
// manageable one, else the first ASA.
func (m *Manager) device(name string) (*policies.Device, error) {
	if name != "" {
		d, ok := m.pol.DeviceByName(name)
		if !ok {
			return nil, fmt.Errorf("device %s: %w", display.Text(name), ErrNoDevice)
		}
		return d, nil
	}
	var first *policies.Device
	for i := range m.pol.Devices {
		d := &m.pol.Devices[i]
		if d.Kind != policies.KindASA {
			continue
		}
		if d.Manageable() {
			return d, nil
		}
		if first == nil {
			first = d
		}
	}
	if first == nil {
		return nil, ErrNoDevice
	}
	return first, nil
}

// limits turns the policy into asaconfig limits: the protected list,
// management networks, approved resolvers and device addresses (what
// policies.Config.IsProtected checks), and the prefix-length bounds.
func (m *Manager) limits() asaconfig.Limits {
	var l asaconfig.Limits
	add := func(p netip.Prefix, why string) {
		if p.IsValid() {
			l.Protected = append(l.Protected, asaconfig.Protected{Prefix: p.Masked(), Scope: asaconfig.ScopeOverlap, Reason: why})
		}
	}
	host := func(a netip.Addr) netip.Prefix {
		if !a.IsValid() {
			return netip.Prefix{}
		}
		return netip.PrefixFrom(a, a.BitLen())
	}
	for _, p := range m.pol.Protected {
		add(p, "policy: protected")
	}
	for _, n := range m.pol.NetworksByRole(policies.RoleManagement) {
		for _, p := range n.Prefixes {
			add(p, "policy: management network "+n.Name)
		}
	}
	for _, a := range m.pol.DNS.ApprovedResolvers {
		add(host(a), "policy: approved resolver")
	}
	for _, d := range m.pol.Devices {
		for _, a := range d.SyslogSources {
			add(host(a), "policy: device "+d.Name)
		}
		add(host(d.SSH.Address), "policy: device "+d.Name+" ssh")
	}
	l.MinPrefixLen = m.pol.Remediation.MaxPrefixLenV4
	l.MinPrefixLen6 = m.pol.Remediation.MaxPrefixLenV6
	return l
}

// checkTarget refuses a target by the policy alone, or by the policy and the
// device's own config when running is not nil.
func (m *Manager) checkTarget(t netip.Prefix, running *asaconfig.Config) error {
	if running == nil {
		running = &asaconfig.Config{} // the zero Config protects nothing of its own
	}
	return running.CheckTarget(t, m.limits())
}

// lockDevice takes the in-process lock for device, then the cross-process
// file lock when LockDir is set.
func (m *Manager) lockDevice(ctx context.Context, device string) (func(), error) {
	unlock, err := m.locker.Lock(ctx, device)
	if err != nil {
		return nil, err
	}
	if m.lockDir == "" {
		return unlock, nil
	}
	funlock, err := devices.LockFile(m.lockDir, device)
	if err != nil {
		unlock()
		return nil, err
	}
	return func() { funlock(); unlock() }, nil
}
