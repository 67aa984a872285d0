package report

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/firebreak-dev/firebreak/detect"
)

// Window is the half-open time range [From, To) a report covers.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Last returns the window of the d before at.
func Last(at time.Time, d time.Duration) Window { return Window{From: at.Add(-d), To: at} }

// Data is one report: everything the renderers show, as plain values. It holds no references
// to the store or the policy, so it can be rendered, cached or encoded as JSON at any time.
// Strings that came from log lines (user names, raw lines, finding text) are untrusted: every
// renderer escapes them for its format.
type Data struct {
	Site        string    `json:"site"`
	Timezone    string    `json:"timezone"`
	Window      Window    `json:"window"`
	GeneratedAt time.Time `json:"generated_at"`

	Servers   ServersSection   `json:"servers"`
	Printers  PrintersSection  `json:"printers"`
	Traffic   TrafficSection   `json:"traffic"`
	Terms     TermsSection     `json:"terms"`
	Findings  FindingsSection  `json:"findings"`
	Proposals ProposalsSection `json:"proposals"`
	Blocks    BlocksSection    `json:"blocks"`

	// Filter is what the report was narrowed to (the dashboard's filters); zero for reports.
	Filter     Filter            `json:"filter,omitzero"`
	Activity   ActivitySection   `json:"activity"`
	Denied     DeniedSection     `json:"denied"`
	Interfaces InterfacesSection `json:"interfaces"`
}

// ServersSection is the servers' bytes in the window, split by their top external peers,
// grouped by the role of their network.
type ServersSection struct {
	Groups []ServerGroup `json:"groups"`
	Note   string        `json:"note,omitempty"`
}

// ServerGroup is the servers of one role, most bytes first.
type ServerGroup struct {
	Role    string      `json:"role"`  // policies role, e.g. "terminal-servers"
	Title   string      `json:"title"` // for people, e.g. "Terminal servers"
	Servers []ServerRow `json:"servers"`
	Omitted int         `json:"omitted,omitempty"` // servers with traffic beyond the shown ones
}

// ServerRow is one server: its total bytes and the bytes of its top external peers.
type ServerRow struct {
	Host    netip.Addr `json:"host"`
	Name    string     `json:"name"`    // host name from the policy, or the network name
	Network string     `json:"network"` // the policy network holding Host
	Bytes   uint64     `json:"bytes"`   // every byte of the host's connections, internal and external
	// Peers are the top external peers by bytes; OtherExternal the rest of the external bytes;
	// Internal = Bytes − all external bytes (traffic with other site hosts).
	Peers         []PeerBytes `json:"peers"`
	OtherExternal uint64      `json:"other_external"`
	Internal      uint64      `json:"internal"`
}

// PeerBytes is one external peer's share of a server's bytes.
type PeerBytes struct {
	Peer  netip.Addr `json:"peer"` // invalid for the store's overflow bucket
	Bytes uint64     `json:"bytes"`
	Conns uint64     `json:"conns"`
}

// PeerLabel names a peer for people (the overflow bucket has no address).
func PeerLabel(a netip.Addr) string {
	if !a.IsValid() {
		return "(other peers)"
	}
	return a.String()
}

// PrintersSection lists which printers and print servers talked to which external addresses
// on which ports.
type PrintersSection struct {
	Rows []PrinterRow `json:"rows"` // by printer, then most bytes first
	Note string       `json:"note,omitempty"`
}

// PrinterRow is one printer → external peer → port.
type PrinterRow struct {
	Printer netip.Addr `json:"printer"`
	Name    string     `json:"name"`
	Role    string     `json:"role"` // printers or print-servers
	Peer    netip.Addr `json:"peer"`
	Proto   uint8      `json:"proto"`
	Port    uint16     `json:"port"`
	Bytes   uint64     `json:"bytes"`
	Conns   uint64     `json:"conns"`
}

// PortLabel renders a port as "443/tcp".
func PortLabel(proto uint8, port uint16) string {
	if proto == 0 && port == 0 {
		return "(other ports)"
	}
	return fmt.Sprintf("%d/%s", port, protoName(proto))
}

// TrafficSection is the site's bytes per hour over the 24 hours ending at the window's end,
// against the same hours one and two days before, with the hours that stand out marked.
type TrafficSection struct {
	Hours []TrafficHour `json:"hours"`
	// Rule says in words how hours were marked (the thresholds used).
	Rule string `json:"rule"`
	// Totals of the three days, in the order day, day before, two days before.
	Totals [3]uint64 `json:"totals"`
	Note   string    `json:"note,omitempty"`
}

// TrafficHour is one hour of the site total and its two references.
type TrafficHour struct {
	Start         time.Time `json:"start"`
	Label         string    `json:"label"` // local wall-clock hour, "14:00"
	Bytes         uint64    `json:"bytes"`
	DayBefore     uint64    `json:"day_before"`
	TwoDaysBefore uint64    `json:"two_days_before"`
	// Marked: the hour stands out against its baseline (see TrafficSection.Rule).
	Marked bool    `json:"marked"`
	Median float64 `json:"median"` // baseline median, 0 when there is none
	Z      float64 `json:"z"`
	Method string  `json:"method"` // baseline reference set, "none" without history
}

// TermsSection is the significant terms of the window for each field.
type TermsSection struct {
	Heuristic string      `json:"heuristic"`
	Fields    []TermField `json:"fields"`
	Note      string      `json:"note,omitempty"`
}

// TermField is the ranked terms of one field (destination.ip, destination.port, ...).
type TermField struct {
	Field  string    `json:"field"`
	Title  string    `json:"title"`
	FGDocs int64     `json:"fg_docs"` // documents in the window
	BGDocs int64     `json:"bg_docs"` // documents in the retained background
	Terms  []TermRow `json:"terms"`
	Note   string    `json:"note,omitempty"`
}

// TermRow is one significant term; Term is the term as the CLI shows it ("alice@192.0.2.7";
// the user part is untrusted text).
type TermRow struct {
	Term  string  `json:"term"`
	Score float64 `json:"score"`
	FG    int64   `json:"fg"`
	BG    int64   `json:"bg"`
}

// FindingsSection is the findings seen in the window: new ones (first seen in it) and ongoing
// ones (first seen before), each most severe first.
type FindingsSection struct {
	New     []detect.Finding `json:"new"`
	Ongoing []detect.Finding `json:"ongoing"`
	Note    string           `json:"note,omitempty"`
}

// ProposalView is what the report shows of a remediation proposal. The cmd layer converts the
// remediation package's own type into it, so this package does not depend on remediation.
type ProposalView struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`   // block, quarantine, san-route...
	State    string   `json:"state"`  // proposed, approved, ...
	Target   string   `json:"target"` // address, prefix or host
	Findings []string `json:"findings,omitempty"`
	Reason   string   `json:"reason,omitempty"`   // why it was proposed
	Advisory string   `json:"advisory,omitempty"` // advice for a person; nothing is sent
	Diff     string   `json:"diff,omitempty"`     // unified diff of the device config
	CLI      []string `json:"cli,omitempty"`      // the exact lines that would be sent
	// Effect is the change's verdict on the finding's flows and the site's allowed flows,
	// before -> after, by the data-path model (one line each, as `proposals diff` prints it).
	Effect  []string  `json:"effect,omitempty"`
	Created time.Time `json:"created"`
	Age     Age       `json:"age"` // filled by Build from Created when zero
	// Ineffective, when set, says why the change is not offered: the data-path model found
	// it would stop nothing (its flows already dropped, or never crossing the ASA).
	Ineffective string `json:"ineffective,omitempty"`
}

// ProposalsSection is the proposals waiting for a person (proposed or approved, not applied).
type ProposalsSection struct {
	Pending []ProposalView `json:"pending"`
	Note    string         `json:"note,omitempty"`
	// Ineffective are the changes stored as ineffective: never offered, listed with the reason.
	Ineffective []ProposalView `json:"ineffective,omitempty"`
}

// BlockView is an applied block and whether it works: hit counts from the device and deny
// logs since it was applied.
type BlockView struct {
	ID          string    `json:"id"`
	Target      string    `json:"target"`
	AppliedAt   time.Time `json:"applied_at"`
	Age         Age       `json:"age"` // filled by Build from AppliedAt when zero
	HitCount    uint64    `json:"hit_count"`
	DeniesSince uint64    `json:"denies_since"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	// StillNeeded is a short verdict for people ("yes: 40 denies in the last 24h", "expired").
	StillNeeded string `json:"still_needed"`
}

// BlocksSection is the active blocks.
type BlocksSection struct {
	Active []BlockView `json:"active"`
	Note   string      `json:"note,omitempty"`
}

// Age is a duration that reads as "3d4h" for people and as a Go duration in JSON.
type Age time.Duration

// MarshalText writes the exact Go duration ("76h0m0s"), so JSON round-trips.
func (a Age) MarshalText() ([]byte, error) { return []byte(time.Duration(a).String()), nil }

// UnmarshalText parses a Go duration.
func (a *Age) UnmarshalText(b []byte) error {
	d, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("age: %w", err)
	}
	*a = Age(d)
	return nil
}

// String is the age for people: "45m", "5h20m", "3d4h".
func (a Age) String() string {
	d := time.Duration(a).Round(time.Minute)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	default:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	}
}
