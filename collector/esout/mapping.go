package esout

import (
	"maps"
	"slices"
	"strings"
)

// Field types as the cluster's mapping names them. "ip" fields only ever carry an address
// (AppendECS writes an address or leaves the key out); ids and codes that AppendECS quotes
// are keywords, as in Elastic's ECS templates.
const (
	typeKeyword = "keyword"
	typeLong    = "long"
	typeIP      = "ip"
	typeDate    = "date"
	typeText    = "text"
	typeDouble  = "double"
	typeBool    = "boolean"
	// typeOriginal is event.original: kept in _source, neither indexed nor aggregated (ECS).
	typeOriginal = "keyword-unindexed"
)

// eventFields are exactly the keys ciscolog.AppendECS writes, with their ECS types. The
// tests render real events (the repository's syslog samples and the scenario generator's
// lines) and read AppendECS's source for every key literal, and fail on a key missing here
// or a key here that AppendECS never writes: the mapping cannot drift from the renderer.
var eventFields = map[string]string{
	"@timestamp":     typeDate,
	"ecs.version":    typeKeyword,
	"message":        typeText,
	"event.original": typeOriginal,
	"event.kind":     typeKeyword,
	"event.category": typeKeyword,
	"event.type":     typeKeyword,
	"event.code":     typeKeyword,
	"event.action":   typeKeyword,
	"event.outcome":  typeKeyword,
	"event.reason":   typeKeyword,
	"event.duration": typeLong,
	"event.sequence": typeLong,
	"event.severity": typeLong,
	"tags":           typeKeyword,

	"log.level":                typeKeyword,
	"log.syslog.severity.code": typeLong,
	"log.syslog.priority":      typeLong,
	"log.syslog.facility.code": typeLong,
	"log.source.address":       typeKeyword,

	"observer.hostname":               typeKeyword,
	"observer.vendor":                 typeKeyword,
	"observer.product":                typeKeyword,
	"observer.type":                   typeKeyword,
	"observer.ingress.interface.name": typeKeyword,
	"observer.egress.interface.name":  typeKeyword,

	"source.ip":              typeIP,
	"source.address":         typeKeyword,
	"source.port":            typeLong,
	"source.mac":             typeKeyword,
	"source.bytes":           typeLong,
	"source.user.name":       typeKeyword,
	"source.user.group.name": typeKeyword,
	"source.nat.ip":          typeIP,
	"source.nat.port":        typeLong,

	"destination.ip":        typeIP,
	"destination.address":   typeKeyword,
	"destination.port":      typeLong,
	"destination.bytes":     typeLong,
	"destination.user.name": typeKeyword,
	"destination.nat.ip":    typeIP,
	"destination.nat.port":  typeLong,

	"network.transport":   typeKeyword,
	"network.iana_number": typeKeyword,
	"network.type":        typeKeyword,
	"network.direction":   typeKeyword,
	"network.bytes":       typeLong,
	"network.packets":     typeLong,

	"rule.name":   typeKeyword,
	"rule.id":     typeKeyword,
	"user.name":   typeKeyword,
	"user.domain": typeKeyword,

	"related.ip":    typeIP,
	"related.user":  typeKeyword,
	"related.hosts": typeKeyword,

	"icmp.type": typeKeyword,
	"icmp.code": typeKeyword,

	"cisco.asa.message_id":              typeKeyword,
	"cisco.asa.suffix":                  typeKeyword,
	"cisco.asa.connection_id":           typeKeyword,
	"cisco.asa.source_interface":        typeKeyword,
	"cisco.asa.destination_interface":   typeKeyword,
	"cisco.asa.rule_name":               typeKeyword,
	"cisco.asa.source_username":         typeKeyword,
	"cisco.asa.destination_username":    typeKeyword,
	"cisco.asa.mapped_source_ip":        typeIP,
	"cisco.asa.mapped_source_port":      typeLong,
	"cisco.asa.mapped_destination_ip":   typeIP,
	"cisco.asa.mapped_destination_port": typeLong,
	"cisco.asa.icmp_type":               typeLong,
	"cisco.asa.icmp_code":               typeLong,
	"cisco.asa.hit_count":               typeLong,
	"cisco.ios.facility":                typeKeyword,
	"cisco.ios.access_list":             typeKeyword,
}

// FindingFields are the ECS keys of a finding's document (cmd/firebreak renders it), beside
// "firebreak.finding", the finding itself, mapped as an object whose named members are
// typed and whose others are mapped dynamically.
var findingFields = map[string]string{
	"@timestamp":     typeDate,
	"event.kind":     typeKeyword,
	"event.id":       typeKeyword,
	"event.severity": typeLong,
	"rule.name":      typeKeyword,
	"message":        typeText,

	"firebreak.finding.id":         typeKeyword,
	"firebreak.finding.key":        typeKeyword,
	"firebreak.finding.detector":   typeKeyword,
	"firebreak.finding.severity":   typeKeyword,
	"firebreak.finding.title":      typeText,
	"firebreak.finding.status":     typeKeyword,
	"firebreak.finding.first_seen": typeDate,
	"firebreak.finding.last_seen":  typeDate,
	"firebreak.finding.count":      typeLong,
	"firebreak.finding.trend":      typeKeyword,
	"firebreak.finding.strength":   typeDouble,
	"firebreak.finding.protected":  typeBool,
}

// proposalFields are the ECS keys of a proposal state's document, beside "firebreak.proposal".
var proposalFields = map[string]string{
	"@timestamp":   typeDate,
	"event.kind":   typeKeyword,
	"event.action": typeKeyword,
	"event.id":     typeKeyword,
	"message":      typeText,

	"firebreak.proposal.id":     typeKeyword,
	"firebreak.proposal.kind":   typeKeyword,
	"firebreak.proposal.state":  typeKeyword,
	"firebreak.proposal.device": typeKeyword,
	"firebreak.proposal.target": typeKeyword,
}

// dynamicObjects are the objects of a stream's documents mapped dynamically (the finding or
// proposal as firebreak stores it: its shape is the store's, not ECS).
var dynamicObjects = map[Stream][]string{
	StreamFindings:  {"firebreak.finding"},
	StreamProposals: {"firebreak.proposal"},
}

// Fields returns the mapped keys of a stream's documents and their types (a copy).
func Fields(s Stream) map[string]string {
	switch s {
	case StreamFindings:
		return maps.Clone(findingFields)
	case StreamProposals:
		return maps.Clone(proposalFields)
	}
	return maps.Clone(eventFields)
}

// DynamicObjects returns the objects of a stream's documents whose members are mapped
// dynamically (anything below them is accepted).
func DynamicObjects(s Stream) []string { return slices.Clone(dynamicObjects[s]) }

// mappings is the "mappings" object of a stream's component template: every field nested
// under its dotted path, unknown fields kept in _source but not indexed (dynamic false).
func mappings(s Stream) map[string]any {
	root := map[string]any{}
	fields := Fields(s)
	keys := slices.Sorted(maps.Keys(fields))
	for _, k := range keys {
		parts := strings.Split(k, ".")
		props := root
		for _, p := range parts[:len(parts)-1] {
			o, ok := props[p].(map[string]any)
			if !ok {
				o = map[string]any{"properties": map[string]any{}}
				props[p] = o
			}
			props = o["properties"].(map[string]any)
		}
		props[parts[len(parts)-1]] = fieldMapping(k, fields[k])
	}
	for _, d := range dynamicObjects[s] {
		parts := strings.Split(d, ".")
		props := root
		var o map[string]any
		for _, p := range parts {
			var ok bool
			if o, ok = props[p].(map[string]any); !ok {
				o = map[string]any{"properties": map[string]any{}}
				props[p] = o
			}
			props = o["properties"].(map[string]any)
		}
		o["dynamic"] = true
	}
	return map[string]any{"dynamic": false, "properties": root}
}

func fieldMapping(key, typ string) map[string]any {
	switch typ {
	case typeOriginal:
		return map[string]any{"type": typeKeyword, "index": false, "doc_values": false}
	case typeKeyword:
		return map[string]any{"type": typeKeyword, "ignore_above": 1024}
	case typeText:
		// message and titles: full text, and a keyword beside it for tables and terms.
		return map[string]any{"type": typeText, "fields": map[string]any{"keyword": map[string]any{"type": typeKeyword, "ignore_above": 1024}}}
	case typeDate:
		return map[string]any{"type": typeDate}
	}
	return map[string]any{"type": typ}
}
