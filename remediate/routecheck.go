package remediate

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// RouteCheck is the device's `show route` for the SAN network before and
// after a SAN route change, and whether the route after points at the next
// hop the policy names (networks[].gateway). The command asks for the SAN's
// network address, so it shows the entry a packet to the SAN uses: a more
// specific or better route the plan did not touch, or a route left out of
// the table because its interface is down, shows up here.
type RouteCheck struct {
	Command string `json:"command"`
	Want    string `json:"want"`             // "10.50.0.0/24 via 10.20.0.254 (inside)"
	Before  string `json:"before,omitempty"` // the entry as the device showed it
	After   string `json:"after,omitempty"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
}

func (c RouteCheck) String() string {
	after := c.After
	if after == "" {
		after = "not checked"
	}
	mark := "ok"
	if !c.OK {
		mark = "MISMATCH, want " + c.Want
	}
	if c.Error != "" {
		mark += " (" + c.Error + ")"
	}
	return fmt.Sprintf("%s: before %s; after %s: %s", c.Command, c.Before, after, mark)
}

// routeHop is one next hop of a routing entry; Gateway is invalid for a
// connected network.
type routeHop struct {
	Gateway   netip.Addr
	Interface string
}

// routeEntry is one entry of `show route ADDR`.
type routeEntry struct {
	Prefix netip.Prefix
	Source string // static, connected, ospf, ...
	Hops   []routeHop
}

func (e routeEntry) String() string {
	var hops []string
	for _, h := range e.Hops {
		if h.Gateway.IsValid() {
			hops = append(hops, fmt.Sprintf("via %s (%s)", h.Gateway, h.Interface))
		} else {
			hops = append(hops, "directly connected ("+h.Interface+")")
		}
	}
	return fmt.Sprintf("%s %s %s", e.Prefix, e.Source, strings.Join(hops, ", "))
}

// parseShowRoute reads the reply to `show route ADDR`: the entry, or
// found false for "% Network not in table" / "% Subnet not in table".
func parseShowRoute(out string) (e routeEntry, found bool, err error) {
	inBlocks := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(strings.TrimRight(l, "\r"))
		switch {
		case strings.HasPrefix(l, "% ") && strings.Contains(l, "not in table"):
			return routeEntry{}, false, nil
		case strings.HasPrefix(l, "Routing entry for "):
			f := strings.Fields(strings.TrimPrefix(l, "Routing entry for "))
			if len(f) < 2 {
				return routeEntry{}, false, fmt.Errorf("show route: %q", l)
			}
			a, err := netip.ParseAddr(f[0])
			m, err2 := netip.ParseAddr(f[1])
			if err != nil || err2 != nil || !m.Is4() {
				return routeEntry{}, false, fmt.Errorf("show route: %q", l)
			}
			bits := maskBits(m)
			if bits < 0 {
				return routeEntry{}, false, fmt.Errorf("show route: mask %q", f[1])
			}
			e.Prefix, found = netip.PrefixFrom(a, bits), true
		case strings.HasPrefix(l, "Known via \""):
			e.Source, _, _ = strings.Cut(strings.TrimPrefix(l, "Known via \""), "\"")
		case l == "Routing Descriptor Blocks:":
			inBlocks = true
		case inBlocks && strings.Contains(l, ", via "):
			l = strings.TrimSpace(strings.TrimPrefix(l, "*"))
			gw, ifname, _ := strings.Cut(l, ", via ")
			ifname, _, _ = strings.Cut(strings.TrimSpace(ifname), " ")
			h := routeHop{Interface: strings.TrimSuffix(ifname, ",")}
			if gw != "directly connected" {
				a, err := netip.ParseAddr(strings.TrimSpace(gw))
				if err != nil {
					return routeEntry{}, false, fmt.Errorf("show route: next hop %q", gw)
				}
				h.Gateway = a
			}
			e.Hops = append(e.Hops, h)
		}
	}
	if !found || len(e.Hops) == 0 {
		return routeEntry{}, false, fmt.Errorf("show route: no routing entry in the reply")
	}
	return e, true, nil
}

func maskBits(m netip.Addr) int {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n, v = n+1, v<<1
	}
	if v != 0 {
		return -1
	}
	return n
}

// sanRoute is the route a SAN fix adds (with the policy's gateway), if
// any: the route the device must use for the SAN after the push.
func sanRoute(p Proposal, changes []asaconfig.Change) (asaconfig.Route, bool) {
	if p.Kind != KindSANFix {
		return asaconfig.Route{}, false
	}
	for _, c := range changes {
		if a, ok := c.(asaconfig.AddRoute); ok && a.Route.Gateway.IsValid() && a.Route.Dest.Addr().Is4() {
			return a.Route, true
		}
	}
	return asaconfig.Route{}, false
}

// newRouteCheck starts the check of r; the command holds typed values only.
func newRouteCheck(r asaconfig.Route) (*RouteCheck, error) {
	if err := asaconfig.ValidateName(r.Interface); err != nil {
		return nil, err
	}
	return &RouteCheck{
		Command: "show route " + r.Dest.Masked().Addr().String(),
		Want:    fmt.Sprintf("%s via %s (%s)", r.Dest.Masked(), r.Gateway, r.Interface),
	}, nil
}

// read runs the check's command through show and describes the entry.
func (c *RouteCheck) read(ctx context.Context, show func(context.Context, string) (string, error)) (routeEntry, bool, string, error) {
	out, err := show(ctx, c.Command)
	if err != nil {
		return routeEntry{}, false, "error: " + err.Error(), err
	}
	e, found, err := parseShowRoute(out)
	switch {
	case err != nil:
		return routeEntry{}, false, "unreadable reply", err
	case !found:
		return routeEntry{}, false, "not in the table", nil
	}
	return e, true, e.String(), nil
}

// judgeAfter reads the route after the change and requires every next hop
// of the entry to be the wanted gateway on the wanted interface.
func (c *RouteCheck) judgeAfter(ctx context.Context, show func(context.Context, string) (string, error), want asaconfig.Route) error {
	e, found, desc, err := c.read(ctx, show)
	c.After = desc
	if err != nil {
		c.Error = err.Error()
	}
	c.OK = found && len(e.Hops) > 0
	for _, h := range e.Hops {
		if h.Gateway != want.Gateway || h.Interface != want.Interface {
			c.OK = false
		}
	}
	if !c.OK {
		return fmt.Errorf("route check: %s", c)
	}
	return nil
}
