// Package ciscolog parses one Cisco ASA (and FTD/PIX) or IOS syslog frame into an Event value,
// and writes events as Elastic Common Schema JSON (AppendECS).
//
// # What it reads
//
// The parser finds the first well-formed Cisco tag in the frame (%ASA-6-302013, %ASA-session-5-106100,
// %FTD-…, %PIX-…, IOS %FAC[-SUB]-SEV-MNEMONIC with a digit or letter severity) and reads the
// envelope before it token by token, so that it accepts all the variants seen in the field:
//
//   - no header at all (`%ASA-…`, and `ASA-…` without '%' at the start of a line);
//   - RFC 3164 `<PRI>Mmm dd hh:mm:ss host`, ASA `Mmm dd yyyy hh:mm:ss[ TZ][ host ]:`, `host : %ASA-…`;
//   - RFC 5424 `<PRI>1 2026-03-03T09:00:04Z host app - - - msg` and bare ISO stamps;
//   - a relay's stamp and host stacked before the device's own (the last stamp and host win);
//   - IOS sequence numbers (none, one, two, zero-padded, or an empty `<190>: `), stamps with a
//     leading `*` or `.`, milliseconds, zone abbreviations in any case (CET, METDST, mdt),
//     `UTC+07:30`, year-first stamps, and uptime stamps (`3w2d`: Time stays zero);
//   - rsyslog's `message repeated N times: [ … ]` (Count = N).
//
// The body is typed for the ASA ids with hand-written readers in parseASA, the ASA/FTD ids and
// id ranges of asa_specs.go and the IOS mnemonics of ios_specs.go (read by the templates of
// template.go), FTD's key/value security events (430001-430005) and the IOS access-list
// logging mnemonics (IPACCESSLOG*, ACCESSLOG*); any other tagged message is KindHeader with
// Text set, and a frame without a tag is KindUnparsed with Raw (and whatever header it had).
// A frame cut before the mandatory part of its message is KindHeader with Truncated set.
// Parsing never fails and never panics.
//
// Stamps without a zone are read in the device's zone (Options.Zone, default UTC); stamps without
// a year take it from the injected clock (Options.Now), never from the wall clock.
//
// # Ownership and concurrency
//
// String fields of an Event alias the frame that was parsed: no copy is made on the hot path, and
// the common messages parse without allocating. They are valid only while that frame is
// unmodified; call Event.Clone to keep an event beyond that. (A body with doubled spaces is
// re-read from a private copy, which then backs those strings instead; Clone handles both.)
//
// A Parser is not safe for concurrent use; use one per goroutine.
package ciscolog
