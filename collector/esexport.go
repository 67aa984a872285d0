package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// ErrExportLine is a JSON line of an Elasticsearch export that has no usable message or time.
var ErrExportLine = errors.New("JSON line without @timestamp and message (or event.original)")

// FromExport turns one line of a JSON export from Elasticsearch (one document per line, as
// Kibana's CSV/NDJSON exports, elasticdump or a _search scroll write them; the document bare or
// under "_source") back into a syslog frame the parser reads, appended to dst:
//
//   - event.original, when the document kept it, is the line as received: used as is;
//   - else message with @timestamp (and host.hostname, host.name, observer.hostname or
//     log.syslog.hostname) in front, in the "ISO-8601 host : body" form the ASA writes with
//     `logging timestamp rfc5424`; a message that still has its own syslog header (it starts
//     with "<PRI>") is used as is.
//
// isJSON is false for a line that is not a JSON object (a plain syslog line): use it unchanged.
// A JSON object without the fields gives ErrExportLine; the caller keeps the raw line.
// Dotted names are looked up both flattened ("host.name") and nested ({"host":{"name"}}).
func FromExport(dst, line []byte) (frame []byte, isJSON bool, err error) {
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] != '{' {
		return dst, false, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(t, &doc); err != nil {
		return dst, true, ErrExportLine
	}
	if src, ok := doc["_source"].(map[string]any); ok {
		doc = src
	}
	if orig := field(doc, "event.original"); orig != "" {
		return append(dst, oneLine(orig)...), true, nil
	}
	msg := field(doc, "message")
	if msg == "" {
		return dst, true, ErrExportLine
	}
	if msg[0] == '<' {
		return append(dst, oneLine(msg)...), true, nil
	}
	ts := field(doc, "@timestamp")
	at, terr := time.Parse(time.RFC3339Nano, ts)
	if terr != nil {
		return dst, true, ErrExportLine
	}
	host := "-"
	for _, k := range []string{"host.hostname", "host.name", "observer.hostname", "log.syslog.hostname", "host"} {
		if h := field(doc, k); h != "" && !strings.ContainsAny(h, " \t\r\n") {
			host = h
			break
		}
	}
	dst = at.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, ' ')
	dst = append(dst, host...)
	dst = append(dst, " : "...)
	return append(dst, oneLine(msg)...), true, nil
}

// field returns the string at a dotted name, flattened or nested; "" when absent or not a string.
func field(doc map[string]any, name string) string {
	if v, ok := doc[name].(string); ok {
		return v
	}
	head, rest, ok := strings.Cut(name, ".")
	if !ok {
		return ""
	}
	sub, _ := doc[head].(map[string]any)
	if sub == nil {
		return ""
	}
	return field(sub, rest)
}

// oneLine keeps a frame on one line: an exported message never holds the newline that ended it.
func oneLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
