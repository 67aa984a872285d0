package esout_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/esout"
)

// sigTermsAnswer is a real _search answer shape with a significant_terms aggregation.
func sigTermsAnswer(keys ...any) map[string]any {
	var buckets []any
	for i, k := range keys {
		buckets = append(buckets, map[string]any{"key": k, "doc_count": 40 - i, "score": 2.5 - float64(i)/10, "bg_count": 50 - i})
	}
	return map[string]any{"took": 12, "timed_out": false,
		"_shards":      map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0},
		"hits":         map[string]any{"total": map[string]any{"value": 1200, "relation": "eq"}, "max_score": nil, "hits": []any{}},
		"aggregations": map[string]any{"firebreak_terms": map[string]any{"doc_count": 1200, "bg_count": 90000, "buckets": buckets}}}
}

// checkSigTerms validates a significant_terms request as the cluster parses it and returns
// the aggregation.
func checkSigTerms(t *testing.T, flavour string, body map[string]any) map[string]any {
	t.Helper()
	for k := range body {
		if !slices.Contains([]string{"size", "track_total_hits", "query", "aggs", "runtime_mappings"}, k) {
			t.Errorf("search key %s", k)
		}
	}
	if _, ok := body["runtime_mappings"]; ok && flavour == "opensearch" {
		t.Errorf("OpenSearch: Unknown key for a START_OBJECT in [runtime_mappings]")
	}
	st, _ := dig(body, "aggs", "firebreak_terms", "significant_terms").(map[string]any)
	if st == nil {
		t.Fatalf("no significant_terms aggregation: %v", body)
	}
	heur := 0
	for k, v := range st {
		switch k {
		case "field", "size", "min_doc_count", "background_filter", "shard_size", "shard_min_doc_count":
		case "jlh", "percentage":
			heur++
			if len(v.(map[string]any)) != 0 {
				t.Errorf("%s takes no parameters: %v", k, v)
			}
		case "mutual_information", "chi_square", "gnd":
			heur++
			for p := range v.(map[string]any) {
				if p != "background_is_superset" && (k == "gnd" || p != "include_negatives") {
					t.Errorf("%s: unknown parameter %s", k, p)
				}
			}
		default:
			t.Errorf("significant_terms: unknown key %s", k)
		}
	}
	if heur > 1 {
		t.Errorf("more than one heuristic: %v", st)
	}
	return st
}

func TestTermsAggregationRequest(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 20, 0, 0, time.UTC)
	for _, tc := range []struct {
		flavour, field, heuristic, wantField string
		wantHeur                             map[string]any
		key                                  any
	}{
		{"elasticsearch", "destination.ip", "", "firebreak.server.ip", map[string]any{}, "203.0.113.9"},
		{"elasticsearch", "destination.port", "chi_square", "firebreak.server.port",
			map[string]any{"include_negatives": false, "background_is_superset": true}, "4444/tcp"},
		{"opensearch", "destination.port", "gnd", "destination.port", map[string]any{"background_is_superset": true}, 4444},
		{"opensearch", "source.ip", "jlh", "source.ip", map[string]any{}, "198.51.100.7"},
	} {
		t.Run(tc.flavour+"/"+tc.field, func(t *testing.T) {
			c := newFakeCluster(t, tc.flavour)
			var got map[string]any
			var fgDocs any
			c.search = func(index string, body map[string]any) (int, any) {
				if index != "logs-cisco_asa.log-clinic" {
					t.Errorf("searched %s, want the ASA stream", index)
				}
				got = checkSigTerms(t, tc.flavour, body)
				if tc.flavour == "elasticsearch" {
					if _, ok := dig(body, "runtime_mappings", tc.wantField, "script", "source").(string); !ok {
						t.Errorf("no runtime field %s", tc.wantField)
					}
				}
				if dig(body, "size") != 0.0 {
					t.Errorf("size %v: hits are not wanted", body["size"])
				}
				fg := dig(body, "query", "bool", "filter").([]any)
				fgDocs = fg[0]
				if r := dig(fg[1], "range", "@timestamp").(map[string]any); r["gte"] != "2026-12-02T14:00:00Z" || r["lt"] != "2026-12-03T15:00:00Z" {
					t.Errorf("foreground %v, want the 24h window in whole hours", r)
				}
				return 200, sigTermsAnswer(tc.key)
			}
			po := setupOutput(c.URL())
			cl, _ := esout.NewClient(po, nil)
			ans, err := esout.SignificantTerms(context.Background(), cl, esout.TermsQuery{Index: po.Streams.ASA, Field: tc.field,
				From: at.Add(-24 * time.Hour), To: at, Retention: 400 * 24 * time.Hour, Heuristic: tc.heuristic, Size: 10, MinDoc: 3, Flavour: tc.flavour})
			if err != nil {
				t.Fatal(err)
			}
			if got["field"] != tc.wantField || got["size"] != 10.0 || got["min_doc_count"] != 3.0 {
				t.Errorf("aggregation %v", got)
			}
			hn := tc.heuristic
			if hn == "" {
				hn = "jlh"
			}
			if h, _ := json.Marshal(got[hn]); string(h) != mustJSON(tc.wantHeur) {
				t.Errorf("heuristic %s = %s, want %s", hn, h, mustJSON(tc.wantHeur))
			}
			bg := dig(got, "background_filter", "bool", "filter").([]any)
			if r := dig(bg[1], "range", "@timestamp").(map[string]any); r["lt"] != "2026-12-04T00:00:00Z" || r["gte"] != "2025-10-29T00:00:00Z" {
				t.Errorf("background %v, want every retained UTC day to the end of the window's day", r)
			}
			// Foreground and background select the same documents.
			if mustJSON(bg[0]) != mustJSON(fgDocs) || !strings.Contains(mustJSON(fgDocs), `"flow-creation"`) {
				t.Errorf("background documents %s, foreground's %s", mustJSON(bg[0]), mustJSON(fgDocs))
			}
			if ans.DocCount != 1200 || ans.BgCount != 90000 || len(ans.Buckets) != 1 || ans.Buckets[0].DocCount != 40 || ans.Buckets[0].Score != 2.5 {
				t.Errorf("answer %+v", ans)
			}
			if want := jsonKey(tc.key); ans.Buckets[0].Key != want {
				t.Errorf("key %q want %q", ans.Buckets[0].Key, want)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonKey(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return mustJSON(k)
}
