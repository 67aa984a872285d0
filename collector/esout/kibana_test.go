package esout_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/firebreak-dev/firebreak/collector/esout"
	"github.com/firebreak-dev/firebreak/policies"
)

// loadMinimal is the generator's site policy: it has printers and servers.
func loadMinimal(t *testing.T) *policies.Config {
	t.Helper()
	cfg, err := policies.Load("../../testdata/policies/good/generator-default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type savedObject struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes"`
	References []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"references"`
}

// parseSaved reads NDJSON line by line as saved objects and checks what Kibana's import
// checks: one object per line, known types, unique ids, every reference resolving to an
// object in the file, the JSON-in-strings attributes valid, every panel's and search
// source's reference name present, and every field a visualization or search names mapped.
func parseSaved(t *testing.T, b []byte) map[string]savedObject {
	t.Helper()
	objs := map[string]savedObject{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	var all []savedObject
	for sc.Scan() {
		line++
		var o savedObject
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("line %d: not a saved object: %v", line, err)
		}
		switch o.Type {
		case "index-pattern", "visualization", "search", "dashboard":
		default:
			t.Errorf("line %d: type %q", line, o.Type)
		}
		if o.ID == "" || o.Attributes["title"] == nil {
			t.Errorf("line %d: id %q title %v", line, o.ID, o.Attributes["title"])
		}
		if _, dup := objs[o.Type+"/"+o.ID]; dup {
			t.Errorf("line %d: duplicate id %s", line, o.ID)
		}
		objs[o.Type+"/"+o.ID] = o
		all = append(all, o)
	}
	fields := esout.Fields(esout.StreamASA)
	for k := range esout.Fields(esout.StreamFindings) {
		fields[k] = "finding"
	}
	for _, o := range all {
		names := map[string]bool{}
		for _, r := range o.References {
			names[r.Name] = true
			if _, ok := objs[r.Type+"/"+r.ID]; !ok {
				t.Errorf("%s %s: reference %s %s does not resolve", o.Type, o.ID, r.Type, r.ID)
			}
		}
		for _, k := range []string{"visState", "panelsJSON", "optionsJSON", "uiStateJSON"} {
			if s, ok := o.Attributes[k].(string); ok && !json.Valid([]byte(s)) {
				t.Errorf("%s %s: %s is not JSON", o.Type, o.ID, k)
			}
		}
		if ssj, ok := dig(o.Attributes, "kibanaSavedObjectMeta", "searchSourceJSON").(string); ok {
			var ss map[string]any
			if err := json.Unmarshal([]byte(ssj), &ss); err != nil {
				t.Errorf("%s %s: searchSourceJSON: %v", o.Type, o.ID, err)
			}
			if rn, ok := ss["indexRefName"].(string); ok && !names[rn] {
				t.Errorf("%s %s: indexRefName %s not among its references", o.Type, o.ID, rn)
			}
			if q, _ := dig(ss, "query", "query").(string); q != "" {
				checkQueryFields(t, o.ID, q, fields)
			}
		}
		if vs, ok := o.Attributes["visState"].(string); ok {
			var v struct {
				Type string `json:"type"`
				Aggs []struct {
					Type   string         `json:"type"`
					Params map[string]any `json:"params"`
				} `json:"aggs"`
				Params map[string]any `json:"params"`
			}
			json.Unmarshal([]byte(vs), &v)
			for _, a := range v.Aggs {
				if f, ok := a.Params["field"].(string); ok && fields[f] == "" {
					t.Errorf("visualization %s: %s on unmapped field %s", o.ID, a.Type, f)
				}
			}
			if v.Type == "timelion" {
				expr, _ := v.Params["expression"].(string)
				for _, m := range regexp.MustCompile(`metric=\w+:([\w.]+)`).FindAllStringSubmatch(expr, -1) {
					if fields[m[1]] == "" {
						t.Errorf("timelion %s: metric on unmapped field %s", o.ID, m[1])
					}
				}
			}
		}
		if cols, ok := o.Attributes["columns"].([]any); ok {
			for _, c := range cols {
				if fields[c.(string)] == "" {
					t.Errorf("search %s: column %s is not mapped", o.ID, c)
				}
			}
		}
		if pj, ok := o.Attributes["panelsJSON"].(string); ok {
			var panels []struct {
				PanelRefName string `json:"panelRefName"`
			}
			json.Unmarshal([]byte(pj), &panels)
			if len(panels) == 0 {
				t.Errorf("dashboard %s has no panels", o.ID)
			}
			for _, p := range panels {
				if !names[p.PanelRefName] {
					t.Errorf("dashboard %s: panel %s not among its references", o.ID, p.PanelRefName)
				}
			}
		}
	}
	return objs
}

var kqlField = regexp.MustCompile(`([a-z@][a-z0-9_.]*):`)

func checkQueryFields(t *testing.T, id, q string, fields map[string]string) {
	t.Helper()
	for _, m := range kqlField.FindAllStringSubmatch(regexp.MustCompile(`"[^"]*"`).ReplaceAllString(q, `""`), -1) {
		if fields[m[1]] == "" {
			t.Errorf("%s: query names unmapped field %s: %s", id, m[1], q)
		}
	}
}

func TestKibanaTemplateObjects(t *testing.T) {
	objs := parseSaved(t, esout.KibanaTemplate())
	for _, want := range []string{"dashboard/firebreak-dashboard", "index-pattern/firebreak-events",
		"visualization/firebreak-servers-peer-bytes", "visualization/firebreak-printers-out", "visualization/firebreak-traffic-3days",
		"visualization/firebreak-sigterms-destination-ip", "visualization/firebreak-denied-over-time", "search/firebreak-denied"} {
		if _, ok := objs[want]; !ok {
			t.Errorf("no %s", want)
		}
	}
	// The dashboard shows every visualization and search.
	d := objs["dashboard/firebreak-dashboard"]
	for k, o := range objs {
		if o.Type != "visualization" && o.Type != "search" {
			continue
		}
		found := false
		for _, r := range d.References {
			found = found || r.Type+"/"+r.ID == k
		}
		if !found {
			t.Errorf("dashboard does not show %s", k)
		}
	}
}

func TestKibanaObjectsFilledFromPolicy(t *testing.T) {
	cfg := loadMinimal(t)
	po := setupOutput("http://127.0.0.1:1")
	b, err := esout.KibanaObjects(cfg, po)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("{{")) {
		t.Fatalf("placeholders left: %s", b)
	}
	objs := parseSaved(t, b)
	if got := objs["index-pattern/firebreak-findings"].Attributes["title"]; got != po.Streams.Findings {
		t.Errorf("findings view title %v", got)
	}
	var printers []string
	for _, n := range cfg.NetworksByRole(policies.RolePrinters) {
		for _, p := range n.Prefixes {
			printers = append(printers, `"`+p.String()+`"`)
		}
	}
	if len(printers) == 0 {
		t.Fatal("policy without printers")
	}
	ssj := dig(objs["visualization/firebreak-printers-out"].Attributes, "kibanaSavedObjectMeta", "searchSourceJSON").(string)
	var ss map[string]any
	json.Unmarshal([]byte(ssj), &ss)
	if q, _ := dig(ss, "query", "query").(string); !strings.Contains(q, "destination.ip:("+strings.Join(printers, " or ")+")") {
		t.Errorf("printers query %s lacks %v", q, printers)
	}
	vs := objs["visualization/firebreak-traffic-3days"].Attributes["visState"].(string)
	if !strings.Contains(vs, "offset=-1d") || !strings.Contains(vs, "offset=-2d") || !strings.Contains(vs, po.Streams.ASA) {
		t.Errorf("three-day traffic %s", vs)
	}
}
