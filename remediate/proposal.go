package remediate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// Kind is what a proposal does.
type Kind string

// Proposal kinds.
const (
	KindBlock      Kind = "block"      // external address into the managed group on the outside ACL
	KindQuarantine Kind = "quarantine" // internal host denied at the top of its interface's ACL
	KindSANFix     Kind = "san_fix"    // SAN routing via PlanSANFix, with an advisory
	KindAdvisory   Kind = "advisory"   // text for a person; nothing is sent
	KindRemoval    Kind = "removal"    // undoes an applied proposal (revert or expiry)
)

// State is where a proposal is in its life.
type State string

// States.
const (
	StateProposed State = "proposed"
	StateApproved State = "approved"
	StateRejected State = "rejected"
	StateApplied  State = "applied"
	StateFailed   State = "failed"
	StateExpired  State = "expired"
	StateReverted State = "reverted"
)

// Transitions is the state machine: the states each state may move to.
// A transition not listed here is refused with ErrTransition.
var Transitions = map[State][]State{
	StateProposed: {StateApproved, StateRejected},
	// approved → proposed: one of two approvers approved a plan that changed since the
	// complete approval (people.two_person); the approvals start over.
	StateApproved: {StateApproved, StateProposed, StateRejected, StateApplied, StateFailed},
	StateFailed:   {StateApproved, StateRejected},
	StateApplied:  {StateReverted, StateExpired},
	StateRejected: nil,
	StateReverted: nil,
	StateExpired:  nil,
}

// CanMove reports whether the state machine allows from → to.
func CanMove(from, to State) bool {
	for _, s := range Transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Open reports whether a proposal in state s still waits for a decision or a
// push (it absorbs new findings for the same target).
func (s State) Open() bool {
	return s == StateProposed || s == StateApproved || s == StateFailed
}

// Removal reasons.
const (
	ReasonRevert = "revert"
	ReasonExpiry = "expiry"
)

// Errors.
var (
	ErrNotFound    = errors.New("proposal not found")
	ErrTransition  = errors.New("transition not allowed")
	ErrNotApproved = errors.New("no approval record")
	ErrStale       = errors.New("device configuration changed since approval")
	ErrNoDevice    = errors.New("no manageable ASA device")
	ErrNoPusher    = errors.New("no device access configured")
	ErrUnsafeLine  = errors.New("unsafe cli line")
	// ErrDigest: the plan computed now is not the one approved (its digest differs).
	ErrDigest = fmt.Errorf("%w: the plan's digest differs from the approved one", ErrStale)
	// ErrNotApprover, ErrSelfApproval, ErrSameApprover and ErrApprovals are the people
	// rules of the policy (policies.People).
	ErrNotApprover  = errors.New("not an approver")
	ErrSelfApproval = errors.New("the proposer cannot approve")
	ErrSameApprover = errors.New("already approved by this user")
	ErrApprovals    = errors.New("not enough distinct approvals")
)

// FindingRef ties a proposal to a finding that justifies it.
type FindingRef struct {
	ID       string `json:"id"`
	Key      string `json:"key"`
	Detector string `json:"detector"`
	Severity string `json:"severity"`
}

// Approval is what people approved: the typed changes computed against a
// running configuration with the given scope fingerprint, and the digest of
// the plan they were shown (PlanDigest). By, At, Comment and AuditSeq are the
// latest approver's; Approvers lists every distinct user who approved this
// digest. A proposal whose kind needs two approvers (people.two_person) stays
// proposed with an Approval of one until a second user approves the same
// digest.
type Approval struct {
	By          string          `json:"by"`
	At          time.Time       `json:"at"`
	Comment     string          `json:"comment,omitempty"`
	Fingerprint string          `json:"fingerprint"`
	Hostname    string          `json:"hostname,omitempty"`
	Changes     json.RawMessage `json:"changes"`              // asaconfig.MarshalChanges
	Lines       []string        `json:"lines"`                // the CLI lines shown in the dry run
	ExecLines   int             `json:"exec_lines,omitempty"` // how many of Lines are privileged EXEC (the last)
	Digest      string          `json:"digest,omitempty"`
	AuditSeq    uint64          `json:"audit_seq"`
	Approvers   []Approver      `json:"approvers,omitempty"`
	Needed      int             `json:"needed,omitempty"` // distinct approvers the policy asked for
	// ByPolicy: firebreak approved on the policy's behalf (auto_remove_on_expiry);
	// the people rules do not apply.
	ByPolicy bool `json:"by_policy,omitempty"`
}

// Approver is one user's approval of a plan.
type Approver struct {
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Comment  string    `json:"comment,omitempty"`
	AuditSeq uint64    `json:"audit_seq"`
}

// Names lists the distinct approvers, in order.
func (a *Approval) Names() []string {
	if a == nil {
		return nil
	}
	if len(a.Approvers) == 0 {
		return []string{a.By}
	}
	out := make([]string, 0, len(a.Approvers))
	for _, x := range a.Approvers {
		out = append(out, x.By)
	}
	return out
}

// Complete reports whether the approval has as many distinct approvers as it
// needed.
func (a *Approval) Complete() bool {
	return a != nil && len(a.Names()) >= max(a.Needed, 1)
}

// Proposal is one proposed change and its history. It is a value; the store
// holds the authoritative copy.
type Proposal struct {
	ID     string `json:"id"`
	Seq    uint64 `json:"seq"`
	Kind   Kind   `json:"kind"`
	State  State  `json:"state"`
	Device string `json:"device"`
	// Origin is OriginManual for a person's block (firebreak block), else empty (findings).
	Origin string `json:"origin,omitempty"`
	// Target is the external address or prefix (block), the host (quarantine,
	// as a /32 or /128) or the SAN prefix (san_fix).
	Target    netip.Prefix `json:"target,omitzero"`
	Interface string       `json:"interface,omitempty"`
	Group     string       `json:"group,omitempty"`
	Shun      bool         `json:"shun,omitempty"`
	// Duration is how long an applied block or quarantine lasts (0: until removed).
	Duration time.Duration `json:"duration,omitempty"`
	ShunFor  time.Duration `json:"shun_for,omitempty"`
	// RemovalOf and RemovalReason are set on removal proposals.
	RemovalOf     string `json:"removal_of,omitempty"`
	RemovalReason string `json:"removal_reason,omitempty"`
	// Topic is the detector an advisory is about (advisories of different
	// detectors for one address are kept apart).
	Topic    string       `json:"topic,omitempty"`
	Findings []FindingRef `json:"findings,omitempty"`
	// Flows are the connections of the findings' evidence (first packets,
	// initiator as source, at most MaxFindingFlows); Direction says whether
	// the target opened them or internal hosts did, which decides where the
	// denies go. Effect is their verdict before and after the change, and
	// that of the flows that must keep working, from the last dry run.
	Flows     []datapath.Flow `json:"flows,omitempty"`
	Direction Direction       `json:"direction,omitempty"`
	Effect    *Effect         `json:"effect,omitempty"`
	// Verification is the device's packet-tracer result for each flow
	// after the last push.
	Verification []Trace  `json:"verification,omitempty"`
	Reason       string   `json:"reason"`             // why proposed, from a fixed template
	Advisory     string   `json:"advisory,omitempty"` // for a person, never sent
	Refusal      string   `json:"refusal,omitempty"`  // why a target was refused
	Notes        []string `json:"notes,omitempty"`
	// ProposedBy is who created the proposal: a person (propose, revert), the
	// daemon's detections or firebreak itself (expiry).
	ProposedBy string    `json:"proposed_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Approval   *Approval `json:"approval,omitempty"`
	AppliedAt  time.Time `json:"applied_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	ShunUntil  time.Time `json:"shun_until,omitzero"`
	Unshunned  bool      `json:"unshunned,omitempty"`
	// ShunOwned is set when firebreak placed the shun (show shun did not
	// list the address before and did after): only an owned shun is
	// expired, removed or re-placed by firebreak. ShunForeign: the device
	// already shunned the address; firebreak left it alone.
	ShunOwned   bool `json:"shun_owned,omitempty"`
	ShunForeign bool `json:"shun_foreign,omitempty"`
	// Drift is what the last reconciliation found different on the device
	// (nil: nothing).
	Drift []Drift `json:"drift,omitempty"`
	// RouteCheck is the device's route for the SAN before and after the
	// last push of a SAN route change.
	RouteCheck *RouteCheck `json:"route_check,omitempty"`
	// Applied holds the changes the device accepted (asaconfig.MarshalChanges).
	Applied    json.RawMessage `json:"applied,omitempty"`
	LastError  string          `json:"last_error,omitempty"`
	Transcript string          `json:"transcript,omitempty"` // redacted by devices
}

// AppliedChanges decodes the changes the device accepted.
func (p *Proposal) AppliedChanges() ([]asaconfig.Change, error) {
	if len(p.Applied) == 0 {
		return nil, nil
	}
	return asaconfig.UnmarshalChanges(p.Applied)
}

// ApprovedChanges decodes the approved change list.
func (p *Proposal) ApprovedChanges() ([]asaconfig.Change, error) {
	if p.Approval == nil {
		return nil, ErrNotApproved
	}
	return asaconfig.UnmarshalChanges(p.Approval.Changes)
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Seq      uint64    `json:"seq,omitempty"` // filled when read
	At       time.Time `json:"at"`
	Who      string    `json:"who"`
	Proposal string    `json:"proposal"`
	Action   string    `json:"action"`
	From     State     `json:"from,omitempty"`
	To       State     `json:"to,omitempty"`
	Comment  string    `json:"comment,omitempty"`
}

// Audit actions.
const (
	ActionPropose = "propose"
	ActionRefuse  = "refuse"
	ActionUpdate  = "update"
	ActionApprove = "approve"
	// ActionApprovePartial: one approval of a proposal that needs two.
	ActionApprovePartial = "approve-partial"
	// ActionApproveRefused: an approval the people rules or the digest refused.
	ActionApproveRefused = "approve-refused"
	ActionReject         = "reject"
	ActionPush           = "push"
	ActionPushFailed     = "push-failed"
	ActionPushRefused    = "push-refused"
	ActionRevert         = "revert"
	ActionExpire         = "expire"
	ActionUnshun         = "unshun"
	ActionIneffective    = "ineffective"
	ActionVerify         = "verify"
)

func (p *Proposal) String() string {
	t := ""
	if p.Target.IsValid() {
		t = " " + p.Target.String()
	}
	return fmt.Sprintf("%s %s%s on %s [%s]", p.ID, p.Kind, t, p.Device, p.State)
}

// targetKey identifies what a proposal acts on, for deduplication.
func (p *Proposal) targetKey() string {
	return strings.Join([]string{string(p.Kind), p.Device, p.Target.String(), p.RemovalOf, p.Topic}, "|")
}
