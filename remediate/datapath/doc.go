// Package datapath decides what a Cisco ASA (8.3-9.x, routed mode, single
// context) does with the first packet of a flow, from its parsed running
// configuration ([asaconfig.Config]), and names the rule that decides. It is
// pure: no I/O, the time is an argument, and a [Model] is safe for
// concurrent use once built.
//
// # Order of checks
//
// [Model.Decide] follows the ASA's order for a packet entering interface I
// (Cisco ASA configuration guides, "Information About Access Rules",
// "Implicit Permits", "Security levels"; packet-tracer's phases):
//
//  1. I must exist, have a nameif and not be shut down.
//  2. The connection table: a packet of an established connection (either
//     direction) is permitted without any ACL. Replies therefore never meet
//     an access-list, and a new deny does not cut a live session: a change
//     that must stop live traffic also needs `clear conn address A`.
//  3. Shuns: a new connection from a shunned source is dropped on every
//     interface (or the shun's interface). A shun of a source only leaves
//     that source's current connections in place (ASA command reference,
//     `shun`); only a shun naming the 5-tuple, or `clear conn`, drops one.
//  4. The route lookup of the destination: connected subnets of up
//     interfaces (distance 0), then static routes (longest prefix, then the
//     lowest distance; `tunneled` routes are skipped). Traffic to one of the
//     box's own interface addresses is to-the-box traffic (step 8).
//  5. The ingress ACL: the ACL bound `in interface I` (not a `control-plane`
//     binding), then the `global` ACL; the first matching active entry
//     decides, and no match is the implicit deny. Only when neither exists
//     does the security-level rule apply: permitted from a higher to a lower
//     level. Entries are matched on protocol (numbers, `ip`, protocol,
//     service and icmp-type object-groups, service objects), addresses
//     (`any`, `any4`, `any6`, `host`, masks, IPv6 prefixes, `object`
//     host/subnet/range, nested network object-groups, `interface`), ports
//     (`eq lt gt neq range`, port-object groups), ICMP type and code,
//     `time-range` (absolute and periodic, in the box's local time) and
//     `inactive`.
//  6. Same security level: between two interfaces of equal level only with
//     `same-security-traffic permit inter-interface`, back out of the same
//     interface only with `... intra-interface`, whatever the ACLs say.
//     Transit through a `management-only` interface is dropped.
//  7. The egress interface's ACL bound `out interface E`.
//  8. To the box: the `control-plane` ACL of I, then the service itself
//     (`ssh`, `http` with `http server enable`, `telnet` lines for I, `icmp
//     permit|deny` lines, ICMP permitted when I has none); the address must
//     be I's own (a far interface is not reachable), and anything else is
//     dropped.
//
// # What is simplified
//
//   - NAT is not modelled. From 8.3 on, access-lists name real
//     (untranslated) addresses, so ACL verdicts hold; but a flow must be
//     given with real addresses, and NAT's own drops (no xlate, RPF checks of
//     static NAT) are not predicted.
//   - Inspection engines, TCP normalisation, threat detection (and its
//     automatic shuns), uRPF (`ip verify reverse-path`), per-user ACLs,
//     VPN filters, `sysopt connection permit-vpn`, transparent mode and
//     multiple contexts are not modelled.
//   - Identity (user), FQDN and security-group entries cannot be decided
//     from the configuration: a flow that reaches such an entry, matching
//     it in everything else, gets an [Unknown] verdict naming it.
//   - An entry naming a time-range that does not exist never matches.
//     `clock summer-time` is not applied ([Options.Location] can give the
//     box's zone instead of the fixed `clock timezone` offset), and the
//     ASA's lag of up to 100 s in switching a time-range is ignored.
//   - IPv6: interface IPv6 addresses and `ipv6 route` lines are not read,
//     so an IPv6 flow gets an [Unknown] verdict (its entries still match
//     `any`, `any6` and IPv6 prefixes, for the day routing is added).
//   - Every flow is one new connection's first packet; the connection table
//     is what [State] says, not what earlier Decide calls would have built.
package datapath
