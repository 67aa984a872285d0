// Package asaconfig models the parts of a Cisco ASA (8.4–9.x) running
// configuration that firebreak changes or must respect, renders typed
// changes to CLI lines, plans safely ordered change lists, and applies them
// to a copy of the model for dry-run diffs.
//
// # Model
//
// [Parse] reads `show running-config` text into a [Config]. Every input line
// is kept verbatim, so [Config.Render] on an unchanged Config returns the
// input byte for byte. Lines the package knows (interfaces, network objects
// and groups, access-lists, access-groups, routes and the management,
// logging, NTP, AAA, DNS, SNMP and VPN facts) are also parsed into typed
// values; everything else is carried along untouched. A Config is immutable:
// [Config.Apply] returns a new one, so a Config is safe for concurrent reads.
//
// # Names
//
// With `name` entries, the ASA shows names instead of addresses in its
// configuration. The parser resolves names so that the read-only views
// (groups, ACLs, [Config.SelfProtected]) are correct, but a config that has
// any `name` entry is refused for changes ([ErrNamesInUse]), as
// Netspoc-Approve does: lines rendered from addresses would never read back
// equal to what the device shows, so verification after a push would fail.
//
// # Rendering
//
// CLI lines are built only from typed values: netip addresses and prefixes,
// uint16 ports, enum protocols and actions, names matching
// ^[A-Za-z0-9_.-]{1,64}$ and remarks from the fixed template
// "firebreak <proposal-id> <kind>". Every line passes [ValidateLine] (printable
// ASCII only, one line, at most 511 characters) before it is returned.
//
// # Placement of a managed deny ACE
//
// A block's `deny ip object-group G any` ACE is inserted directly after the
// last protected entry of the interface's ACL, and never later. An entry is
// protected when it is a permit whose source (other than any, a public
// service) overlaps a protected prefix
// (the caller's set plus [Config.SelfProtected]), or when it follows a remark
// containing "protect", "management" or "mgmt" (case-insensitive) before the
// next remark, unless it is a deny (the catch-all deny ending such a section
// protects nobody, and a block behind it would never match). Firebreak's own remarks never count. The ACE is sent first
// (`access-list A line N extended deny …`), then its remark with the same
// line number, which leaves the remark directly above the ACE. The line
// number is computed from the model content at plan time; a push must
// re-read the device and compare [Config.Fingerprint] over [ScopeOf] the
// changes before sending.
//
// # Verifying a push
//
// Fingerprint reads only access-list, object-group, access-group and route
// lines, so the concatenated output of `show running-config access-list`,
// `… object-group`, `… access-group` and `… route` fingerprints the same as
// the whole configuration. After a push, the fingerprint of the device's
// config must equal that of the model with the changes applied.
package asaconfig
