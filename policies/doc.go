// Package policies loads, checks and answers questions about a firebreak site policy: the
// devices, the networks and their roles, the flows allowed between them, protected addresses,
// detector thresholds, schedules, retention, remediation and report settings. It imports
// nothing else of the project; every other package reads its Config.
//
// # Loading
//
// Load takes a file or a folder of *.yaml files (merged in file-name order); Parse takes one
// document in memory; Embedded is the built-in policy `serve` runs with by default. Each file
// goes through three steps:
//
//  1. goccy/go-yaml parses it into an AST (syntax errors and duplicate keys carry their
//     position).
//  2. A strict decoder walks the AST along the Config type by reflection and fills a Config:
//     unknown keys, wrong kinds, and bad addresses, prefixes, ports, durations and sizes are
//     all reported, each with file, line, column and path, so `policy check` shows every
//     problem at once. The walk records the position of every path and which values the file
//     sets; it expands aliases itself, refusing documents that hold more than 100,000 values
//     once expanded.
//
// goccy/go-yaml's own decoder (with yaml.DisallowUnknownField) was used for step 2 at first
// and dropped: it stops at the first error, loses the position of errors from UnmarshalText,
// and re-formats the whole document for every such leaf (a policy with 4,000 prefixes took
// 35 s to load; it now takes under 0.1 s).
//
// Defaults are applied once, before decoding: the merge starts from Default() and each file
// overwrites only what it sets (known from the walk, so an explicit `false` or `0` counts).
// The first file to set a list replaces the default list; later files append to it. A scalar
// set by two files to different values is an error naming both. Per-element defaults
// (a device's ACL names, its zone) are filled after the merge. Relative paths are taken
// relative to the folder of the file that set them.
//
// Then the merged policy is validated as a whole. Errors found there are placed back in the
// file and line they came from through the recorded positions (a merged list index is mapped
// to the file and index it was written at). Every error is an *Error; Load returns them all
// as Errors, sorted, at most 100 of them.
//
// # Decisions
//
//   - Prefixes must be canonical: 10.1.10.5/24 is an error suggesting 10.1.10.0/24 or
//     10.1.10.5/32, since a silently widened range in a firewall policy is worth stopping for.
//     A bare address means one host (/32 or /128).
//   - Nested prefixes in different networks are normal (a /32 domain controller inside the
//     servers /24) and the most specific prefix decides; the same prefix in two networks is an
//     error, and so is a named host listed under a network a more specific one shadows.
//   - "internet" is every address in no network and not in `internal`; "any" is every network
//     (never the internet) and may stand on one side of a flow only. Any to any is an error, and
//     so is internet to any (or any to internet) without ports.
//   - protected may be empty only while no device can be changed over SSH. Management networks,
//     approved resolvers and the devices' own addresses are protected without being listed.
//   - A `password`, `secret` or `enable_password` key anywhere is an error pointing at the
//     *_env setting: secrets never live in the policy.
//   - Cron specs go through ParseSchedule: robfig/cron/v3's standard parser behind recover(),
//     without TZ=/CRON_TZ= prefixes (the zone is schedules.timezone) and with @every at least 1m.
//   - Zones are IANA names ("Local" is refused); time/tzdata is linked in so a policy means the
//     same on every machine.
//
// # Queries
//
// Classify, Segment, IsInternal, IsProtected, ProtectedOverlaps, FlowAllowed,
// ConventionalPort, DeviceBySource, DeviceByName, NetworkByName, ApprovedResolver, HostByAddr
// and SilentAfter use tables built once by Load; they do not allocate and are safe for
// concurrent use. A Config must not be modified after Load.
package policies
