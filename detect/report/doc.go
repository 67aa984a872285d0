// Package report builds firebreak's report of a time window and renders it as text,
// markdown, one self-contained HTML page, or JSON; it also runs the scheduled report job
// (write to the reports folder, mail over SMTP) and serves the read-only dashboard.
//
// # Data
//
// Build reads the statistics store and the policy, and takes findings, proposals and blocks
// through funcs in Sources, so this package depends on neither the findings store's
// implementation nor remediation (the cmd layer converts remediation's proposals into
// ProposalView and BlockView). The result, Data, is plain values: it can be cached, encoded
// as JSON and read back (ReadJSON), and rendered any number of times.
//
// Sections:
//   - Servers: bytes of each server (networks of the server roles) in the window, split by
//     its top five external peers, other external bytes and internal bytes, grouped by role.
//   - Printers: every printer and print server → external peer → port with bytes and
//     connections.
//   - Traffic: the site's bytes per hour over the 24 hours ending at the window's end
//     (rounded down to the hour), against the same wall-clock hours one and two days before.
//     An hour is marked when baseline.Evaluate calls it a candidate under the policy's
//     volume thresholds (robust z, ratio to the median and absolute excess; reference set the
//     same hour of the week over six weeks, else the same hour of same-kind days, else the
//     last 72 hours). Persistence is not applied: the chart shows single hours that stand out,
//     the volume detector decides what is a finding.
//   - Significant terms: each field's foreground (the window, hourly buckets) against the
//     retained background (daily buckets), ranked by sigterms with the policy's heuristic,
//     min_doc_count and size.
//   - Findings seen in the window, new (first seen in it) or ongoing; pending proposals; active
//     blocks with hit counts, denies since applied and age.
//
// # Rendering and untrusted text
//
// User names, raw syslog lines and anything derived from them are attacker-controlled. The
// HTML renderer uses html/template for every string; the SVG charts are written by hand from
// numbers and escaped labels only; control and bidi characters are shown as \xNN in every
// format; markdown escapes its punctuation and fences code longer than any backtick run it
// holds. The HTML page has no scripts, fonts, images or links to anything outside itself,
// and prints on A4 with each chart above its table of numbers.
//
// # Concurrency
//
// Build and the renderers may be called concurrently; runs of one Job should not overlap (they
// write the same files). The dashboard handler is safe for concurrent use, builds at most
// one report at a time (a front page per query is kept MaxAge, 15 s, and says how old it is),
// and reads the raw archive for one drill-down at a time, at most maxScanLines lines each.
package report
