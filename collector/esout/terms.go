package esout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
)

// TermsQuery is the significant-terms question of `firebreak terms`, put to the cluster:
// the same documents (the ASA's connections, permits, denies and VPN logins), the same
// foreground (the window, widened to whole hours as the local hourly buckets are), the same
// background (every day up to the end of the window's last day, UTC, back to the daily
// retention) and the same heuristic in Elasticsearch's default configuration.
type TermsQuery struct {
	Index     string // the ASA stream
	Field     string // destination.ip, destination.port or source.ip (firebreak's terms fields)
	From, To  time.Time
	Retention time.Duration // how far back the background reaches (the policy's retention.daily)
	Heuristic string        // jlh (default), mutual_information, chi_square, gnd, percentage
	Size      int
	MinDoc    int
	// Flavour decides how the field is read: on Elasticsearch a runtime field names the
	// connection's responder (destination) and initiator (source), as firebreak counts them;
	// OpenSearch has no runtime fields, so the ECS field is used as written (message order).
	Flavour string
}

// TermsAnswer is the cluster's answer: foreground and background sizes and the buckets.
type TermsAnswer struct {
	Field    string        // the field the aggregation ran on
	DocCount int64         `json:"doc_count"`
	BgCount  int64         `json:"bg_count"`
	Buckets  []TermsBucket `json:"buckets"`
}

// TermsBucket is one significant term.
type TermsBucket struct {
	Key      string
	DocCount int64
	BgCount  int64
	Score    float64
}

// sigDocs selects the documents firebreak's statistics count as significant-terms documents
// (collector/stats: allowed connections, denies and VPN logins of the ASA; IOS lines are in
// their own stream and not asked).
func sigDocs() map[string]any {
	return map[string]any{"bool": map[string]any{"minimum_should_match": 1, "should": []any{
		map[string]any{"term": map[string]any{"event.action": "flow-creation"}},
		map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"term": map[string]any{"event.action": "firewall-rule"}},
			map[string]any{"terms": map[string]any{"event.type": []string{"allowed", "denied"}}},
		}}},
		map[string]any{"terms": map[string]any{"event.action": []string{"login", "session-start"}}},
	}}}
}

func timeRange(gte, lt time.Time) map[string]any {
	r := map[string]any{"lt": lt.UTC().Format(time.RFC3339), "format": "strict_date_optional_time"}
	if !gte.IsZero() {
		r["gte"] = gte.UTC().Format(time.RFC3339)
	}
	return map[string]any{"range": map[string]any{"@timestamp": r}}
}

// heuristicBody is the heuristic's object as significant_terms takes it: Elasticsearch's
// defaults, background a superset (it holds the foreground, as firebreak's does).
func heuristicBody(name string) (string, map[string]any, error) {
	switch name {
	case "", "jlh":
		return "jlh", map[string]any{}, nil
	case "mutual_information", "mi":
		return "mutual_information", map[string]any{"include_negatives": false, "background_is_superset": true}, nil
	case "chi_square":
		return "chi_square", map[string]any{"include_negatives": false, "background_is_superset": true}, nil
	case "gnd":
		return "gnd", map[string]any{"background_is_superset": true}, nil
	case "percentage":
		return "percentage", map[string]any{}, nil
	}
	return "", nil, fmt.Errorf("heuristic %q has no significant_terms form", name)
}

// Runtime fields (Elasticsearch) that name the sides as firebreak's statistics do: an outbound
// Built line writes the outside peer (the responder) first, so ECS source is the server there.
const (
	rtServerIP    = "firebreak.server.ip"
	rtServerPort  = "firebreak.server.port"
	rtClientIP    = "firebreak.client.ip"
	outboundBuilt = `boolean ob = doc['network.direction'].size() > 0 && doc['network.direction'].value == 'outbound' && doc['event.action'].size() > 0 && doc['event.action'].value == 'flow-creation';`
)

func runtimeFields() map[string]any {
	return map[string]any{
		rtServerIP: map[string]any{"type": "ip", "script": map[string]any{"source": outboundBuilt +
			` String f = ob ? 'source.ip' : 'destination.ip'; if (doc[f].size() > 0) { emit(doc[f].value); }`}},
		rtClientIP: map[string]any{"type": "ip", "script": map[string]any{"source": outboundBuilt +
			` String f = ob ? 'destination.ip' : 'source.ip'; if (doc[f].size() > 0) { emit(doc[f].value); }`}},
		// "443/tcp", as firebreak names a port term; ICMP has no port (0), as in the statistics.
		rtServerPort: map[string]any{"type": "keyword", "script": map[string]any{"source": outboundBuilt +
			` String f = ob ? 'source.port' : 'destination.port'; String t = doc['network.transport'].size() > 0 ? doc['network.transport'].value : '';` +
			` long p = doc[f].size() > 0 ? doc[f].value : 0; if (t == 'icmp' || t == 'ipv6-icmp') { p = 0; }` +
			` if (t == 'ipv6-icmp') { t = 'icmp6'; } if (t != '') { emit(p + '/' + t); }`}},
	}
}

// TermsRequest is the _search body of a TermsQuery, and the field the aggregation runs on.
func TermsRequest(q TermsQuery) (map[string]any, string, error) {
	hname, hbody, err := heuristicBody(q.Heuristic)
	if err != nil {
		return nil, "", err
	}
	field := q.Field
	es := q.Flavour != FlavourOpenSearch
	if es {
		switch q.Field {
		case "destination.ip":
			field = rtServerIP
		case "destination.port":
			field = rtServerPort
		case "source.ip":
			field = rtClientIP
		default:
			return nil, "", fmt.Errorf("field %q: the cluster answers destination.ip, destination.port and source.ip", q.Field)
		}
	} else if q.Field != "destination.ip" && q.Field != "destination.port" && q.Field != "source.ip" {
		return nil, "", fmt.Errorf("field %q: the cluster answers destination.ip, destination.port and source.ip", q.Field)
	}
	// The foreground in whole hours, the background in whole UTC days, as the buckets are.
	from := q.From.UTC().Truncate(time.Hour)
	to := q.To.UTC().Truncate(time.Hour)
	if to.Before(q.To) {
		to = to.Add(time.Hour)
	}
	bgTo := q.To.UTC().Truncate(24 * time.Hour)
	if bgTo.Before(q.To) {
		bgTo = bgTo.Add(24 * time.Hour)
	}
	var bgFrom time.Time
	if q.Retention > 0 {
		bgFrom = q.To.UTC().Truncate(24 * time.Hour).Add(-q.Retention)
	}
	size := q.Size
	if size == 0 {
		size = 10
	} else if size < 0 {
		size = 10000
	}
	minDoc := q.MinDoc
	if minDoc <= 0 {
		minDoc = 3
	}
	st := map[string]any{
		"field": field, "size": size, "min_doc_count": minDoc,
		"background_filter": map[string]any{"bool": map[string]any{"filter": []any{sigDocs(), timeRange(bgFrom, bgTo)}}},
		hname:               hbody,
	}
	body := map[string]any{
		"size":             0,
		"track_total_hits": true,
		"query":            map[string]any{"bool": map[string]any{"filter": []any{sigDocs(), timeRange(from, to)}}},
		"aggs":             map[string]any{"firebreak_terms": map[string]any{"significant_terms": st}},
	}
	if es {
		body["runtime_mappings"] = runtimeFields()
	}
	return body, field, nil
}

// SignificantTerms runs q on the cluster as a significant_terms aggregation.
func SignificantTerms(ctx context.Context, c *opensearch.Client, q TermsQuery) (TermsAnswer, error) {
	body, field, err := TermsRequest(q)
	if err != nil {
		return TermsAnswer{}, err
	}
	_, b, err := call(ctx, c, http.MethodPost, "/"+url.PathEscape(q.Index)+"/_search", body)
	if err != nil {
		return TermsAnswer{}, err
	}
	var r struct {
		Aggregations struct {
			T *struct {
				DocCount int64 `json:"doc_count"`
				BgCount  int64 `json:"bg_count"`
				Buckets  []struct {
					Key      json.RawMessage `json:"key"`
					DocCount int64           `json:"doc_count"`
					BgCount  int64           `json:"bg_count"`
					Score    float64         `json:"score"`
				} `json:"buckets"`
			} `json:"firebreak_terms"`
		} `json:"aggregations"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil || r.Aggregations.T == nil {
		return TermsAnswer{}, fmt.Errorf("significant_terms answer not understood: %s", firstLine(b))
	}
	ans := TermsAnswer{Field: field, DocCount: r.Aggregations.T.DocCount, BgCount: r.Aggregations.T.BgCount}
	for _, bk := range r.Aggregations.T.Buckets {
		var key string
		if json.Unmarshal(bk.Key, &key) != nil {
			key = string(bk.Key) // a number: destination.port as mapped
		}
		ans.Buckets = append(ans.Buckets, TermsBucket{Key: key, DocCount: bk.DocCount, BgCount: bk.BgCount, Score: bk.Score})
	}
	return ans, nil
}
