// Package stats keeps firebreak's rolling statistics, and the records of the other packages, in
// one buntdb file in the data dir. It is the only code that touches buntdb.
//
// # Ownership and lifecycle
//
// Open takes an exclusive flock on dir/firebreak.lock (non-blocking; the lock file holds the
// owner's pid and command line) and then opens dir/firebreak.db. A second process gets a
// *LockedError naming the owner; the CLI either prints it or talks to the daemon's local API.
// buntdb has no cross-process locking of its own, so nothing else may open the file. buntdb
// syncs once per second (EverySecond) and compacts its append-only file automatically
// (AutoShrink); Close syncs, closes and unlocks.
//
// OpenReadOnly and OpenAppend take the same locks and map the file instead of loading it
// (snapshot.go reads buntdb's format in place; a sorted index of offsets points into the
// mapping): a one-shot command that reads a day of a long history pays for the day, not for
// copying the whole file to the heap. OpenAppend also commits record transactions, by
// appending their sets and deletes in buntdb's own format (layer.go), one write and an fsync
// each, so that the next Open reads them as buntdb's. Neither writes statistics (Batch.Write,
// Prune, Shrink and Backup fail with ErrReadOnly), and both refuse what would need the file
// changed first (an older schema, and for OpenAppend a torn last write) with ErrNeedsWrite. A file damaged other than by a partial last
// write fails Open with ErrCorrupt naming the file. A partial last write (crash, kill -9) is
// truncated by buntdb on open; since buntdb writes a transaction as one write() without a
// commit marker, the complete commands of a torn flush survive: after a crash each key of the
// last flush holds its old or its new value, never garbage, and earlier flushes are intact.
//
// # Write path
//
// The collector feeds events to an Aggregator (one goroutine, no I/O, no allocation per event
// once warm) which counts in Go maps keyed by packed integers, and writes them every second or
// so with Flush, or with Take (swap out the pending data) and Batch.Write on another
// goroutine. Each write is one buntdb transaction that adds to the stored counters
// (read-modify-write). Raw events are never stored; a few raw lines per subject are kept as
// exemplars, the evidence a person can check.
//
// Retention runs from the bucket's time, not from the write: an hourly bucket expires
// Retention.Hourly after its hour ends, computed against the Store's injected clock (so data
// replayed from the past expires when it would have live); buckets already past retention are
// not written, and buckets more than a day ahead of the clock are refused. Statistics keys
// carry no buntdb TTL (buntdb would rebuild a TTL index from the whole file at every Open):
// Prune deletes what is past retention by the time in each key or value, after a flush, at
// most once per PruneEvery (retention.go).
//
// # What is counted
//
// A "document" (the unit of significant terms and of connection counts) is one Built
// (302013/302015/302020...), Permit (106100 permitted, IOS permitted) or Deny/Drop message,
// weighted by ev.Count (106100 hit-cnt, IOS "N packets", "message repeated N times"), plus one
// per login (605005) or VPN session start (722022, 722051, 716001; only these make vpn| records). Bytes come only from Teardown messages; the ASA logs one total
// for both directions, so bytes are split by the internal host's role: initiated (the host
// opened the connection) or accepted. When a teardown does not say who initiated, the side with
// the lower port is taken as the server. "Internal" and segments come from a Classifier.
//
// # Key schema (version 6, key meta|schema)
//
// Keys are '|'-separated ASCII. <hour> is unix/3600 as 7 zero-padded digits and <day> unix/86400
// as 6, so keys sort by time within a prefix and every query is a key-range scan (no buntdb
// indexes: they are not persisted and cost a full scan to rebuild). Addresses are in canonical
// text form ("-" is the overflow bucket of a capped family). Names from log lines (users, ACLs,
// devices, interfaces) are percent-escaped (|, %, space, control and non-ASCII bytes) and cut at
// 96 bytes. Counter values are decimal fields separated by one space. Every hourly family has a
// daily twin with 'd' and <day> in place of 'h' and <hour>; hourly keys live Retention.Hourly
// (35 d) after their hour, daily ones Retention.Daily (400 d) after their day.
//
//	ifc|h|<device>|<iface>|<hour>       inEvents inBytes inDenies outEvents outBytes
//	site|h|<hour>                       events docs conns bytes denies
//
// Everything counted per internal host lives in one key per host and day, whose value holds
// a slot per hour (binary, see hostday.go): buntdb's memory and write cost are per key, and a
// workstation talks to dozens of peers an hour, so one key per host-hour-peer would make the
// key count grow with traffic instead of with hosts × days. The hourly keys (host|h) live
// Retention.Hourly after their day, the daily totals (host|d, one slot) Retention.Daily.
//
//	host|h|<ip>|<day>   per hour of the day: events connsInitiated connsAccepted bytesInitiated
//	                    bytesAccepted denies; peer entries (external peer, proto, server port:
//	                    connsInitiated connsAccepted bytesInitiated bytesAccepted; at most
//	                    KeepPeersPerHour, the heaviest; the rest summed in an overflow entry with no peer, proto 0,
//	                    port 0); port entries (role scope: client or server, other side external
//	                    or internal; proto, port: conns bytes; at most KeepPortsPerHour, overflow
//	                    as for peers)
//	host|d|<ip>|<day>   the day's totals in one slot (caps doubled)
//
// Denies per external source are kept the same way (internet noise brings new sources every
// hour; one key per source and day bounds them by sources × days):
//
//	deny|h|<src>|<day>  per hour: the source's denies; (proto, port) entries: count (at most
//	                    MaxPortsPerSource, overflow proto 0 port 0); ACL entries: count
//	deny|d|<src>|<day>  the day's totals
//
// Terms are packed per field, bucket and shard (00-03, a hash of the term), so that a flush of
// a few events rewrites a few small values:
//
//	term|h|<field>|<hour>|<shard>  entries (term): docs   (field dip, sip: address; dport: proto,
//	                               port; usrc: user and address)
//
// First/last-seen records (value: first last [counts], unix seconds) live Retention.Seen (400 d)
// after their last sighting, refreshed on every update:
//
//	vpn|<user>|<src>                               first last count
//	pair|<client>|<server>|<proto>|<port>|<asa|ios>  first last permitted denied   (internal hosts in different segments)
//	dns|<client>|<resolver>                        first last count   (UDP/TCP 53)
//	seen|<ip>                                      first last         (internal hosts, any event)
//
// Exemplars (value: the line's unix time, a space, the raw line) live Retention.Exemplars (35 d) after the line's time; at
// most AggOptions.Exemplars (3) per subject, taken from its first sightings. Only rare subjects
// get them: deny sources, VPN logins, resolvers, and, when the Classifier implements
// PeerExemplars / PairExemplars, only the peers and pairs it names (unusual ports, printers,
// pairs no flow allows), plus any connection of AggOptions.BigBytes or more:
//
//	ex|vpn|<user>|<src>|<n>   ex|pair|<client>|<server>|<n>   ex|dns|<client>|<resolver>|<n>
//	ex|deny|<src>|<n>         ex|peer|<host>|<peer>|<n>
//
// Records of other packages (JSON values, see RecordTx):
//
//	rec|<ns>|<id>             JSON, optional TTL (findings, proposals, blocks, checkpoints...)
//	log|<ns>|<seq, 20 digits> JSON, append-only, no TTL (the audit log), chained by hash
//	logseq|<ns>               the last sequence number of log ns
//	loghead|<ns>              the hash of log ns's last entry
//	logchain|<ns>             where the chain began on an upgraded file (see logchain.go)
//
// # Read path
//
// Queries (HostSeries, AllHostSeries, SiteSeries, Peers, PeerPorts, Ports, Denies, DenyACLs,
// Interfaces, Terms, BackgroundTerms, VPNSources, Pairs, Resolvers, Hosts, Exemplars) take a
// Window and a Resolution and return typed values; all take a context so that a client of the
// daemon's local API can offer the same methods. They read a consistent snapshot and may run
// concurrently with each other and with writes.
package stats
