package remediate

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// Trace is the device's packet-tracer result for one finding flow after a
// push, and whether it is the drop the plan names.
type Trace struct {
	Flow    datapath.Flow `json:"flow"`
	Command string        `json:"command"`
	// Action is "allow" or "drop" as the device says; Phase the type of the
	// deciding phase (ACCESS-LIST, SHUN, ...) and Config its config lines.
	Action     string `json:"action"`
	Phase      string `json:"phase,omitempty"`
	Config     string `json:"config,omitempty"`
	DropReason string `json:"drop_reason,omitempty"`
	// Want is the rule the plan names (the model's verdict after the change).
	Want  string `json:"want"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func (t Trace) String() string {
	got := t.Action
	if t.Phase != "" {
		got += " by " + t.Phase
	}
	if c := firstConfigACE(t.Config); c != "" {
		got += " (" + c + ")"
	}
	if t.Error != "" {
		got = "error: " + t.Error
	}
	mark := "ok"
	if !t.OK {
		mark = "MISMATCH, want " + t.Want
	}
	return fmt.Sprintf("%s: device %s: %s", t.Flow, got, mark)
}

func firstConfigACE(cfg string) string {
	for _, l := range strings.Split(cfg, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "access-list ") || l == "Implicit Rule" {
			return l
		}
	}
	return ""
}

// tracerCommand renders `packet-tracer input IF PROTO SRC SPORT DST DPORT
// xml` (ICMP: `... icmp SRC TYPE CODE DST xml`) from typed values only.
// The source port is a fresh one: the logged port may still be a live
// connection, which packet-tracer would find in the connection table; what
// must be dropped is the next connection (live ones are cleared after).
func tracerCommand(f datapath.Flow, ingress string) (string, error) {
	if err := asaconfig.ValidateName(ingress); err != nil {
		return "", err
	}
	if !f.Src.Is4() || !f.Dst.Is4() {
		return "", fmt.Errorf("packet-tracer of %s: IPv4 only: %w", f, asaconfig.ErrBadValue)
	}
	var b strings.Builder
	b.WriteString("packet-tracer input " + ingress + " ")
	switch f.Proto {
	case datapath.TCP, datapath.UDP, datapath.SCTP:
		sp := uint16(40000)
		if f.SrcPort == sp {
			sp++
		}
		fmt.Fprintf(&b, "%s %s %d %s %d", datapath.ProtoName(f.Proto), f.Src, sp, f.Dst, f.DstPort)
	case datapath.ICMP:
		fmt.Fprintf(&b, "icmp %s %d %d %s", f.Src, f.ICMPType, f.ICMPCode, f.Dst)
	default:
		fmt.Fprintf(&b, "rawip %s %d %s", f.Src, f.Proto, f.Dst)
	}
	b.WriteString(" xml")
	return b.String(), nil
}

type tracerPhase struct {
	Type   string `xml:"type"`
	Result string `xml:"result"`
	Config string `xml:"config"`
}

type tracerResult struct {
	Action     string `xml:"action"`
	DropReason string `xml:"drop-reason"`
}

// parseTracer reads packet-tracer output, xml (phases and a result, with no
// root element) or text, into the action and the deciding phase: the first
// phase that dropped, else the last access-list phase.
func parseTracer(out string) (action string, deciding tracerPhase, dropReason string, err error) {
	s := strings.TrimSpace(out)
	var phases []tracerPhase
	if strings.HasPrefix(s, "<") {
		var doc struct {
			Phases []tracerPhase `xml:"Phase"`
			Result tracerResult  `xml:"result"`
		}
		if err := xml.Unmarshal([]byte("<r>"+s+"</r>"), &doc); err != nil {
			return "", tracerPhase{}, "", fmt.Errorf("packet-tracer xml: %w", err)
		}
		phases, action, dropReason = doc.Phases, doc.Result.Action, doc.Result.DropReason
	} else {
		var cur *tracerPhase
		inConfig := false
		for _, l := range strings.Split(s, "\n") {
			l = strings.TrimRight(l, "\r ")
			switch {
			case strings.HasPrefix(l, "Phase:"):
				phases = append(phases, tracerPhase{})
				cur, inConfig = &phases[len(phases)-1], false
			case cur != nil && strings.HasPrefix(l, "Type:"):
				cur.Type = strings.TrimSpace(strings.TrimPrefix(l, "Type:"))
			case cur != nil && strings.HasPrefix(l, "Result:") && strings.TrimSpace(strings.TrimPrefix(l, "Result:")) != "":
				cur.Result = strings.TrimSpace(strings.TrimPrefix(l, "Result:"))
			case l == "Config:":
				inConfig = true
			case l == "Additional Information:" || l == "Result:":
				inConfig = false
				if l == "Result:" {
					cur = nil
				}
			case strings.HasPrefix(l, "Action:"):
				action = strings.TrimSpace(strings.TrimPrefix(l, "Action:"))
			case strings.HasPrefix(l, "Drop-reason:"):
				dropReason = strings.TrimSpace(strings.TrimPrefix(l, "Drop-reason:"))
			case inConfig && cur != nil:
				cur.Config += l + "\n"
			}
		}
	}
	action = strings.ToLower(strings.TrimSpace(action))
	if action != "allow" && action != "drop" {
		return "", tracerPhase{}, "", fmt.Errorf("packet-tracer: no action in the output")
	}
	for _, p := range phases {
		if strings.EqualFold(strings.TrimSpace(p.Result), "DROP") {
			return action, trimPhase(p), dropReason, nil
		}
	}
	for i := len(phases) - 1; i >= 0; i-- {
		if strings.TrimSpace(phases[i].Type) == "ACCESS-LIST" {
			return action, trimPhase(phases[i]), dropReason, nil
		}
	}
	return action, tracerPhase{}, dropReason, nil
}

func trimPhase(p tracerPhase) tracerPhase {
	p.Type, p.Result, p.Config = strings.TrimSpace(p.Type), strings.TrimSpace(p.Result), strings.TrimSpace(p.Config)
	return p
}

// wantRule says what the device must show for a finding flow whose model
// verdict after the change is v: a drop by the named ACL entry (the ACL
// and, for a managed group, its name in the entry), or by the shun.
func wantRule(v datapath.Verdict) string {
	switch {
	case v.Stage == datapath.StageShun:
		return "drop by SHUN"
	case v.Rule != nil && v.Rule.Line > 0:
		w := "drop by " + v.Rule.ACL + " line " + strconv.Itoa(v.Rule.Line)
		if v.Rule.Group != "" {
			w += " (" + v.Rule.Group + ")"
		}
		return w
	case v.Rule != nil:
		return "drop by the implicit deny of " + v.Rule.ACL
	}
	return "drop (" + v.Reason + ")"
}

// judge fills t.OK: the device dropped the flow, by the phase and rule v
// names.
func judge(t *Trace, v datapath.Verdict) {
	t.Want = wantRule(v)
	if t.Error != "" || t.Action != "drop" {
		return
	}
	switch {
	case v.Stage == datapath.StageShun:
		t.OK = strings.EqualFold(t.Phase, "SHUN")
	case v.Rule != nil && v.Rule.Line > 0:
		ace := firstConfigACE(t.Config)
		t.OK = strings.EqualFold(t.Phase, "ACCESS-LIST") && strings.HasPrefix(ace, "access-list "+v.Rule.ACL+" ") &&
			strings.Contains(ace, " deny ") && (v.Rule.Group == "" || strings.Contains(ace, " "+v.Rule.Group))
	case v.Rule != nil:
		t.OK = strings.EqualFold(t.Phase, "ACCESS-LIST") && firstConfigACE(t.Config) == "Implicit Rule"
	default:
		t.OK = true // dropped before any ACL (route, interface): what the model said
	}
}

// traceFlows runs packet-tracer through show for each finding flow of e
// whose expected drop is in the configuration (ACL) when shun is false, or
// by a shun when shun is true, and judges each against the model.
func traceFlows(ctx context.Context, show func(context.Context, string) (string, error), e *Effect, shun bool) []Trace {
	var out []Trace
	for _, fe := range e.FindingFlows() {
		if (fe.After.Stage == datapath.StageShun) != shun || fe.After.Action != datapath.Drop {
			continue
		}
		t := Trace{Flow: fe.Flow}
		cmd, err := tracerCommand(fe.Flow, fe.After.Ingress)
		if err != nil {
			t.Error = err.Error()
			judge(&t, fe.After)
			out = append(out, t)
			continue
		}
		t.Command = cmd
		res, err := show(ctx, cmd)
		if err == nil {
			var ph tracerPhase
			t.Action, ph, t.DropReason, err = parseTracer(res)
			t.Phase, t.Config = ph.Type, ph.Config
		}
		if err != nil {
			t.Error = err.Error()
		}
		judge(&t, fe.After)
		out = append(out, t)
	}
	return out
}

// traceErr is nil when every trace is OK, else names the first that is not.
func traceErr(ts []Trace) error {
	for _, t := range ts {
		if !t.OK {
			return fmt.Errorf("packet-tracer: %s", t)
		}
	}
	return nil
}

// recordTraces stores the post-push packet-tracer results, and the route
// check of a SAN route change, with the proposal and one audit entry
// summing them up.
func (m *Manager) recordTraces(ctx context.Context, id, who string, ts []Trace, route *RouteCheck) {
	if len(ts) == 0 && route == nil {
		return
	}
	var parts []string
	if len(ts) > 0 {
		ok := 0
		var lines []string
		for _, t := range ts {
			if t.OK {
				ok++
			}
			lines = append(lines, t.String())
		}
		parts = append(parts, fmt.Sprintf("packet-tracer: %d of %d finding flows dropped by the planned rule; %s", ok, len(ts), strings.Join(lines, "; ")))
	}
	if route != nil {
		parts = append(parts, route.String())
	}
	_, err := m.update(ctx, id, func(tx *stats.RecordTx, q *Proposal) error {
		q.Verification = ts
		q.RouteCheck = route
		_, err := move(tx, q, q.State, ActionVerify, who, strings.Join(parts, "; "), m.now())
		return err
	})
	if err != nil && m.log != nil {
		m.log.Warn("record packet-tracer results", "proposal", id, "err", err)
	}
}
