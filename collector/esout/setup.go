package esout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"

	"github.com/firebreak-dev/firebreak/policies"
)

// Flavours of cluster, told apart by GET / (OpenSearch answers version.distribution
// "opensearch"; Elasticsearch has no such member).
const (
	FlavourElasticsearch = "elasticsearch"
	FlavourOpenSearch    = "opensearch"
)

// Cluster is what GET / says about a cluster.
type Cluster struct {
	Flavour string // FlavourElasticsearch or FlavourOpenSearch
	Version string // version.number
	Name    string // cluster_name
}

// ErrCluster is a request the cluster refused (its status and error are in the message).
var ErrCluster = errors.New("cluster refused the request")

// call sends one JSON request and returns the status and body; a status >= 300 other than
// those in okStatus is an ErrCluster error.
func call(ctx context.Context, c *opensearch.Client, method, path string, body any, okStatus ...int) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Stream(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		for _, s := range okStatus {
			if s == resp.StatusCode {
				return resp.StatusCode, rb, nil
			}
		}
		return resp.StatusCode, rb, fmt.Errorf("%s %s: status %d: %s: %w", method, path, resp.StatusCode, firstLine(rb), ErrCluster)
	}
	return resp.StatusCode, rb, nil
}

// Detect asks the cluster what it is.
func Detect(ctx context.Context, c *opensearch.Client) (Cluster, error) {
	_, b, err := call(ctx, c, http.MethodGet, "/", nil)
	if err != nil {
		return Cluster{}, err
	}
	var r struct {
		ClusterName string `json:"cluster_name"`
		Version     struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Version.Number == "" {
		return Cluster{}, fmt.Errorf("GET /: not an Elasticsearch or OpenSearch answer: %s", firstLine(b))
	}
	cl := Cluster{Flavour: FlavourElasticsearch, Version: r.Version.Number, Name: r.ClusterName}
	if r.Version.Distribution == "opensearch" {
		cl.Flavour = FlavourOpenSearch
	}
	return cl, nil
}

// SetupOptions configure Setup.
type SetupOptions struct {
	Output policies.Output // its streams, namespace and retention
	// Kibana are the saved objects to import (KibanaObjects); nil imports none.
	Kibana []byte
	// KibanaTransport replaces the Kibana HTTP transport (tests); nil: Transport(Output).
	KibanaTransport http.RoundTripper
}

// SetupStep is one thing Setup installed.
type SetupStep struct {
	Method, Path string
	What         string
}

// SetupResult says what Setup found and did.
type SetupResult struct {
	Cluster Cluster
	Steps   []SetupStep
	// Imported is the number of saved objects Kibana accepted (0 when no Kibana URL).
	Imported int
}

// PolicyName is the ILM or ISM policy of an output's streams.
func PolicyName(po policies.Output) string { return "firebreak-" + po.Namespace }

// Setup installs what the cluster needs for an output's streams: component templates (the
// mappings of exactly the fields firebreak writes, and settings), one index template per
// data stream, and a lifecycle policy deleting data after the output's retention (ILM on
// Elasticsearch, ISM on OpenSearch). Every step is a PUT of the whole object, so running it
// again changes nothing (ISM updates name the policy's current version, as OpenSearch
// requires). Backing indices created before take the templates at their next rollover.
// When SetupOptions.Kibana is set and the output names a kibana_url, the saved objects are
// imported there (overwriting firebreak's own ids).
func Setup(ctx context.Context, c *opensearch.Client, o SetupOptions) (SetupResult, error) {
	po := o.Output
	cl, err := Detect(ctx, c)
	res := SetupResult{Cluster: cl}
	if err != nil {
		return res, err
	}
	put := func(path, what string, body any) error {
		if _, _, err := call(ctx, c, http.MethodPut, path, body); err != nil {
			return err
		}
		res.Steps = append(res.Steps, SetupStep{Method: http.MethodPut, Path: path, What: what})
		return nil
	}
	meta := map[string]any{"managed_by": "firebreak", "description": "installed by firebreak es setup"}
	pol := PolicyName(po)
	streams := []struct {
		stream  Stream
		name    string
		dataset string
	}{
		{StreamASA, po.Streams.ASA, "cisco_asa"},
		{StreamIOS, po.Streams.IOS, "cisco_ios"},
		{StreamFindings, po.Streams.Findings, "findings"},
		{StreamProposals, po.Streams.Proposals, "proposals"},
	}

	// 1. The lifecycle policy first: the settings template names it.
	retention := lifecycleAge(time.Duration(po.Retention))
	if cl.Flavour == FlavourOpenSearch {
		if err := putISM(ctx, c, pol, retention, po, &res); err != nil {
			return res, err
		}
	} else {
		ilm := map[string]any{"policy": map[string]any{
			"_meta": meta,
			"phases": map[string]any{
				"hot": map[string]any{"min_age": "0ms", "actions": map[string]any{
					"rollover": map[string]any{"max_age": "1d", "max_primary_shard_size": "50gb"}}},
				"delete": map[string]any{"min_age": retention, "actions": map[string]any{"delete": map[string]any{}}},
			},
		}}
		if err := put("/_ilm/policy/"+url.PathEscape(pol), "ILM policy: roll over daily, delete after "+retention, ilm); err != nil {
			return res, err
		}
	}

	// 2. Component templates: settings, and the mappings of each kind of document.
	settings := map[string]any{"index": map[string]any{"codec": "best_compression"}}
	if cl.Flavour == FlavourElasticsearch {
		settings["index"].(map[string]any)["lifecycle"] = map[string]any{"name": pol}
	}
	settingsName := "firebreak-" + po.Namespace + "-settings"
	if err := put("/_component_template/"+settingsName, "settings (compression, lifecycle)",
		map[string]any{"template": map[string]any{"settings": settings}, "_meta": meta}); err != nil {
		return res, err
	}
	mapNames := map[Stream]string{}
	for _, k := range []struct {
		s    Stream
		kind string
	}{{StreamASA, "events"}, {StreamFindings, "findings"}, {StreamProposals, "proposals"}} {
		name := "firebreak-" + po.Namespace + "-" + k.kind + "-mappings"
		if err := put("/_component_template/"+name, "ECS mappings of "+k.kind+fmt.Sprintf(" (%d fields)", len(Fields(k.s))),
			map[string]any{"template": map[string]any{"mappings": mappings(k.s)}, "_meta": meta}); err != nil {
			return res, err
		}
		mapNames[k.s] = name
	}
	mapNames[StreamIOS] = mapNames[StreamASA]

	// 3. One index template per data stream, above Elastic's built-in logs-*-* (100) and its
	// integrations (200), for exactly the stream's name.
	for _, s := range streams {
		tpl := map[string]any{
			"index_patterns": []string{s.name},
			"data_stream":    map[string]any{},
			"composed_of":    []string{settingsName, mapNames[s.stream]},
			"priority":       250,
			"_meta":          meta,
		}
		if err := put("/_index_template/firebreak-"+po.Namespace+"-"+s.dataset, "data stream template for "+s.name, tpl); err != nil {
			return res, err
		}
	}

	// 4. Kibana (or OpenSearch Dashboards) saved objects.
	if o.Kibana != nil && po.KibanaURL != "" {
		n, err := importKibana(ctx, po, o.KibanaTransport, o.Kibana)
		if err != nil {
			return res, err
		}
		res.Imported = n
		res.Steps = append(res.Steps, SetupStep{Method: http.MethodPost, Path: strings.TrimRight(po.KibanaURL, "/") + kibanaImportPath,
			What: fmt.Sprintf("Kibana saved objects (%d)", n)})
	}
	return res, nil
}

// lifecycleAge writes a retention as the cluster's time unit: whole days, else hours.
func lifecycleAge(d time.Duration) string {
	if d <= 0 {
		d = 90 * 24 * time.Hour
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return fmt.Sprintf("%dh", (d+time.Hour-1)/time.Hour)
}

// putISM creates or updates the ISM policy: OpenSearch refuses a PUT over an existing policy
// unless it names the version it replaces (if_seq_no, if_primary_term).
func putISM(ctx context.Context, c *opensearch.Client, name, retention string, po policies.Output, res *SetupResult) error {
	path := "/_plugins/_ism/policies/" + url.PathEscape(name)
	st, b, err := call(ctx, c, http.MethodGet, path, nil, http.StatusNotFound)
	if err != nil {
		return err
	}
	if st == http.StatusOK {
		var cur struct {
			SeqNo       *int64 `json:"_seq_no"`
			PrimaryTerm *int64 `json:"_primary_term"`
		}
		if err := json.Unmarshal(b, &cur); err != nil || cur.SeqNo == nil || cur.PrimaryTerm == nil {
			return fmt.Errorf("GET %s: no _seq_no/_primary_term in the answer: %s", path, firstLine(b))
		}
		path += fmt.Sprintf("?if_seq_no=%d&if_primary_term=%d", *cur.SeqNo, *cur.PrimaryTerm)
	}
	var patterns []string
	for _, s := range []string{po.Streams.ASA, po.Streams.IOS, po.Streams.Findings, po.Streams.Proposals} {
		patterns = append(patterns, ".ds-"+s+"-*")
	}
	body := map[string]any{"policy": map[string]any{
		"description":   "firebreak: roll over daily, delete after " + retention,
		"default_state": "hot",
		"states": []any{
			map[string]any{"name": "hot",
				"actions":     []any{map[string]any{"rollover": map[string]any{"min_index_age": "1d"}}},
				"transitions": []any{map[string]any{"state_name": "delete", "conditions": map[string]any{"min_index_age": retention}}}},
			map[string]any{"name": "delete",
				"actions":     []any{map[string]any{"delete": map[string]any{}}},
				"transitions": []any{}},
		},
		"ism_template": []any{map[string]any{"index_patterns": patterns, "priority": 100}},
	}}
	if _, _, err := call(ctx, c, http.MethodPut, path, body); err != nil {
		return err
	}
	res.Steps = append(res.Steps, SetupStep{Method: http.MethodPut, Path: path, What: "ISM policy: roll over daily, delete after " + retention})
	return nil
}
