package remediate

import (
	"net/netip"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// MaxFindingFlows bounds the flows a proposal keeps from its findings'
// evidence (they are checked in every dry run and traced after a push).
const MaxFindingFlows = 8

// findingFlows are the connections a finding saw, as first packets with
// the initiator as source: from the evidence's exemplar lines (typed fields
// only, and only lines whose endpoints are the finding's own subject, since
// syslog is attacker-controlled), else one flow built from the subject.
// The ingress interface is kept only when it is a valid name; dry runs
// drop it unless the configuration has it.
func findingFlows(f detect.Finding, now time.Time) []datapath.Flow {
	s := f.Subject
	host, peer := s.Host.Unmap(), s.Peer.Unmap()
	ours := func(a netip.Addr) bool { a = a.Unmap(); return a.IsValid() && (a == host || a == peer) }
	p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return now }})
	var out []datapath.Flow
	add := func(fl datapath.Flow) {
		if len(out) >= MaxFindingFlows {
			return
		}
		k := fl
		k.SrcPort = 0
		if slices.ContainsFunc(out, func(o datapath.Flow) bool { o.SrcPort = 0; return o == k }) {
			return
		}
		out = append(out, fl)
	}
	var ev ciscolog.Event
	for _, line := range f.Evidence.Lines {
		p.ParseString(line, &ev)
		if ev.Family != ciscolog.FamilyASA || ev.Proto == 0 {
			continue
		}
		c, sv := ev.Initiating()
		if ev.Initiator == ciscolog.SideUnknown {
			// A teardown does not say who opened the connection: the side
			// on a service port, or the only side off the ephemeral range
			// (32768 and up, Linux's and Windows'), answered.
			c, sv, _ = stats.PacketInitiator(ev.Src, ev.Dst, uint8(ev.Proto))
			if c == ev.Src && (uint8(ev.Proto) == datapath.TCP || uint8(ev.Proto) == datapath.UDP) && ev.Dst.Port >= 32768 && ev.Src.Port < 32768 {
				c, sv = ev.Dst, ev.Src
			}
		}
		if !c.Addr.IsValid() || !sv.Addr.IsValid() || !ours(c.Addr) {
			continue
		}
		// Both ends must be the subject's, except for a lone external
		// source (scans name no host): then the source must be the peer.
		if !ours(sv.Addr) && (host.IsValid() || c.Addr.Unmap() != peer) {
			continue
		}
		fl := datapath.Flow{Proto: uint8(ev.Proto), Src: c.Addr.Unmap(), Dst: sv.Addr.Unmap()}
		if asaconfig.ValidateName(c.Iface) == nil {
			fl.Ingress = c.Iface
		}
		switch fl.Proto {
		case datapath.TCP, datapath.UDP, datapath.SCTP:
			fl.SrcPort, fl.DstPort = c.Port, sv.Port
			if fl.DstPort == 0 {
				continue
			}
		case datapath.ICMP:
			if ev.ICMPType >= 0 {
				fl.ICMPType = uint8(ev.ICMPType)
			}
			if ev.ICMPCode >= 0 {
				fl.ICMPCode = uint8(ev.ICMPCode)
			}
		}
		add(fl)
	}
	if len(out) == 0 && host.IsValid() && peer.IsValid() {
		// No exemplar: the subject's host and peer on its port, opened by
		// the host (the detectors that name both report the host's traffic).
		fl := datapath.Flow{Proto: s.Proto, Src: host, Dst: peer, DstPort: s.Port, SrcPort: 40000}
		if fl.Proto == 0 {
			fl.Proto, fl.DstPort = datapath.TCP, 443
		}
		if fl.Proto == datapath.ICMP {
			fl.DstPort, fl.SrcPort, fl.ICMPType = 0, 0, 8
		}
		add(fl)
	}
	return out
}

// Direction says who opened a proposal's flows, relative to its target.
type Direction string

// Directions.
const (
	DirPeer  Direction = "peer-initiated" // the target opened them (scans, inbound)
	DirHost  Direction = "host-initiated" // internal hosts opened them to the target
	DirBoth  Direction = "both"
	DirNone  Direction = ""
	dirUnset           = DirNone
)

// direction classifies flows by whether the target is their source or
// their destination.
func direction(target netip.Prefix, flows []datapath.Flow) Direction {
	var src, dst bool
	for _, f := range flows {
		src = src || target.Contains(f.Src)
		dst = dst || target.Contains(f.Dst)
	}
	switch {
	case src && dst:
		return DirBoth
	case src:
		return DirPeer
	case dst:
		return DirHost
	}
	return dirUnset
}

// mergeFlows appends the flows of b not in a, up to MaxFindingFlows.
func mergeFlows(a, b []datapath.Flow) []datapath.Flow {
	for _, f := range b {
		if len(a) >= MaxFindingFlows {
			break
		}
		if !slices.Contains(a, f) {
			a = append(a, f)
		}
	}
	return a
}
