package esout_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/esout"
	"github.com/firebreak-dev/firebreak/policies"
)

func setupOutput(url string) policies.Output {
	return policies.Output{Name: "t", URLs: []string{url}, Namespace: "clinic", Retention: policies.Duration(30 * 24 * time.Hour),
		Streams: policies.OutputStreams{ASA: "logs-cisco_asa.log-clinic", IOS: "logs-cisco_ios.log-clinic",
			Findings: "logs-firebreak.findings-clinic", Proposals: "logs-firebreak.proposals-clinic"},
		QueueMaxBytes: 1 << 20, BatchBytes: 1 << 20}
}

func runSetup(t *testing.T, po policies.Output, kib []byte) esout.SetupResult {
	t.Helper()
	c, err := esout.NewClient(po, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := esout.Setup(context.Background(), c, esout.SetupOptions{Output: po, Kibana: kib})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	return res
}

// leaves lists the dotted field paths of a mapping's properties.
func leaves(prefix string, props map[string]any) []string {
	var out []string
	for k, v := range props {
		p := strings.TrimPrefix(prefix+"."+k, ".")
		f := v.(map[string]any)
		if sub, ok := f["properties"].(map[string]any); ok {
			out = append(out, leaves(p, sub)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// checkTemplates: one data stream template per stream, each composed of the settings and
// the mappings of exactly that stream's fields.
func checkTemplates(t *testing.T, c *fakeCluster, po policies.Output) {
	t.Helper()
	byStream := map[string]esout.Stream{po.Streams.ASA: esout.StreamASA, po.Streams.IOS: esout.StreamIOS,
		po.Streams.Findings: esout.StreamFindings, po.Streams.Proposals: esout.StreamProposals}
	seen := map[string]bool{}
	for name, tpl := range c.index {
		pats := tpl["index_patterns"].([]any)
		if len(pats) != 1 {
			t.Errorf("%s: patterns %v, want the stream's name", name, pats)
			continue
		}
		s, ok := byStream[pats[0].(string)]
		if !ok {
			t.Errorf("%s: pattern %v is no stream of the output", name, pats)
			continue
		}
		seen[pats[0].(string)] = true
		if p := tpl["priority"].(float64); p <= 200 {
			t.Errorf("%s: priority %v does not win over Elastic's logs (100) and integration (200) templates", name, p)
		}
		var got []string
		for _, cn := range tpl["composed_of"].([]any) {
			if props, ok := dig(c.component[cn.(string)], "template", "mappings", "properties").(map[string]any); ok {
				got = append(got, leaves("", props)...)
			}
		}
		slices.Sort(got)
		want := slices.Sorted(maps.Keys(esout.Fields(s)))
		if !slices.Equal(got, want) {
			t.Errorf("%s maps %v\nwant exactly %v", name, got, want)
		}
	}
	if len(seen) != 4 {
		t.Errorf("templates for %v, want the 4 streams", slices.Sorted(maps.Keys(seen)))
	}
}

func TestSetupElasticsearch(t *testing.T) {
	c := newFakeCluster(t, "elasticsearch")
	k := newFakeKibana(t)
	po := setupOutput(c.URL())
	po.KibanaURL = k.srv.URL
	cfg := loadMinimal(t)
	kib, err := esout.KibanaObjects(cfg, po)
	if err != nil {
		t.Fatal(err)
	}
	first := runSetup(t, po, kib)
	if first.Cluster.Flavour != esout.FlavourElasticsearch || first.Cluster.Version != "8.19.7" {
		t.Errorf("detected %+v", first.Cluster)
	}
	n := len(c.Requests())
	second := runSetup(t, po, kib) // idempotent: the same PUTs again, all accepted
	if got := c.Requests()[n:]; !slices.Equal(got, c.Requests()[:n]) {
		t.Errorf("second run sent %v\nfirst %v", got, c.Requests()[:n])
	}
	if len(second.Steps) != len(first.Steps) {
		t.Errorf("steps %d then %d", len(first.Steps), len(second.Steps))
	}
	for _, r := range c.Requests() {
		if strings.Contains(r, "_plugins") {
			t.Errorf("OpenSearch request sent to Elasticsearch: %s", r)
		}
	}
	pol := c.ilm["firebreak-clinic"]
	if pol == nil {
		t.Fatalf("no ILM policy; requests %v", c.Requests())
	}
	if got := dig(pol, "policy", "phases", "delete", "min_age"); got != "30d" {
		t.Errorf("delete after %v, want the output's retention 30d", got)
	}
	if _, ok := dig(pol, "policy", "phases", "delete", "actions", "delete").(map[string]any); !ok {
		t.Errorf("delete phase without delete action: %v", pol)
	}
	if got := dig(c.component["firebreak-clinic-settings"], "template", "settings", "index", "lifecycle", "name"); got != "firebreak-clinic" {
		t.Errorf("settings name lifecycle %v", got)
	}
	checkTemplates(t, c, po)
	if first.Imported != 13 || k.imports != 2 || len(k.objects) != 13 {
		t.Errorf("kibana: imported %d, %d imports, holds %d objects", first.Imported, k.imports, len(k.objects))
	}
	if dv := k.objects["index-pattern/firebreak-events"]; dig(dv, "attributes", "title") != po.Streams.ASA+","+po.Streams.IOS {
		t.Errorf("events data view %v", dig(dv, "attributes", "title"))
	}
}

func TestSetupOpenSearch(t *testing.T) {
	c := newFakeCluster(t, "opensearch")
	po := setupOutput(c.URL())
	po.Retention = policies.Duration(36 * time.Hour)
	first := runSetup(t, po, nil)
	if first.Cluster.Flavour != esout.FlavourOpenSearch {
		t.Errorf("detected %+v", first.Cluster)
	}
	runSetup(t, po, nil) // the update must name the version it replaces, or OpenSearch refuses it (409)
	reqs := c.Requests()
	var puts []string
	for _, r := range reqs {
		if strings.HasPrefix(r, "PUT /_plugins/_ism/policies/") {
			puts = append(puts, r)
		}
		if strings.Contains(r, "_ilm") {
			t.Errorf("ILM request sent to OpenSearch: %s", r)
		}
	}
	if len(puts) != 2 || puts[0] != "PUT /_plugins/_ism/policies/firebreak-clinic" ||
		puts[1] != "PUT /_plugins/_ism/policies/firebreak-clinic?if_seq_no=1&if_primary_term=1" {
		t.Errorf("ISM puts %v", puts)
	}
	pol := c.ism["firebreak-clinic"]
	if pol == nil || pol.version != 2 {
		t.Fatalf("ISM policy %+v", pol)
	}
	states := dig(pol.body, "policy", "states").([]any)
	if got := dig(states[0], "transitions").([]any); len(got) != 1 || dig(got[0], "conditions", "min_index_age") != "36h" {
		t.Errorf("hot state transitions %v, want delete after 36h", got)
	}
	pats := dig(pol.body, "policy", "ism_template").([]any)[0].(map[string]any)["index_patterns"].([]any)
	if !slices.Contains(pats, any(".ds-"+po.Streams.ASA+"-*")) {
		t.Errorf("ism_template patterns %v do not catch the ASA stream's backing indices", pats)
	}
	if got := dig(c.component["firebreak-clinic-settings"], "template", "settings", "index", "lifecycle"); got != nil {
		t.Errorf("OpenSearch settings carry an ILM lifecycle: %v", got)
	}
	checkTemplates(t, c, po)
}

// A cluster that refuses a step stops setup with the cluster's reason.
func TestSetupReportsRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			writeJSON(w, 200, map[string]any{"cluster_name": "x", "version": map[string]any{"number": "8.19.7"}})
			return
		}
		writeJSON(w, 403, map[string]any{"error": map[string]any{"type": "security_exception", "reason": "action [cluster:admin/ilm/put] is unauthorized"}, "status": 403})
	}))
	defer srv.Close()
	po := setupOutput(srv.URL)
	c, _ := esout.NewClient(po, nil)
	_, err := esout.Setup(context.Background(), c, esout.SetupOptions{Output: po})
	if !errors.Is(err, esout.ErrCluster) || !strings.Contains(err.Error(), "unauthorized") || !strings.Contains(err.Error(), "403") {
		t.Errorf("err = %v", err)
	}
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>proxy</html>")) }))
	defer srv2.Close()
	c2, _ := esout.NewClient(setupOutput(srv2.URL), nil)
	if _, err := esout.Setup(context.Background(), c2, esout.SetupOptions{Output: setupOutput(srv2.URL)}); err == nil || !strings.Contains(err.Error(), "not an Elasticsearch or OpenSearch") {
		t.Errorf("non-cluster: err = %v", err)
	}
}
