package esout_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeCluster is a strict stand-in for the management API of Elasticsearch 8 or OpenSearch 2
// on 127.0.0.1: GET / answers as the flavour does, and every PUT is checked for the method,
// path and body shape the real cluster accepts (JSON object, the keys it requires, only keys
// it knows, references to objects that exist, mapping types the flavour has). What it
// accepts it keeps, so a test can look at the cluster's state after setup. Any request it
// does not know fails the test.
type fakeCluster struct {
	t       *testing.T
	flavour string
	srv     *httptest.Server

	mu        sync.Mutex
	requests  []string // "METHOD path"
	component map[string]map[string]any
	index     map[string]map[string]any
	ilm       map[string]map[string]any
	ism       map[string]*ismPolicy
	search    func(path string, body map[string]any) (int, any) // _search handler (terms tests)
}

type ismPolicy struct {
	seqNo, version int
	body           map[string]any
}

func newFakeCluster(t *testing.T, flavour string) *fakeCluster {
	c := &fakeCluster{t: t, flavour: flavour, component: map[string]map[string]any{}, index: map[string]map[string]any{},
		ilm: map[string]map[string]any{}, ism: map[string]*ismPolicy{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *fakeCluster) URL() string { return c.srv.URL }

func (c *fakeCluster) Requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}

// refuse answers an error in the cluster's shape and fails the test: firebreak sent what a
// real cluster would refuse.
func (c *fakeCluster) refuse(w http.ResponseWriter, status int, typ, format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	c.t.Errorf("%s cluster refuses: %s: %s", c.flavour, typ, reason)
	writeJSON(w, status, map[string]any{"error": map[string]any{"root_cause": []any{map[string]any{"type": typ, "reason": reason}},
		"type": typ, "reason": reason}, "status": status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

func (c *fakeCluster) serve(w http.ResponseWriter, r *http.Request) {
	if c.flavour == "elasticsearch" {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		c.t.Errorf("read body: %v", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, r.Method+" "+r.URL.RequestURI())
	var obj map[string]any
	if len(body) > 0 {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			c.refuse(w, 406, "media_type_header_exception", "Content-Type %q", ct)
			return
		}
		if err := json.Unmarshal(body, &obj); err != nil {
			c.refuse(w, 400, "parse_exception", "body is not a JSON object: %v", err)
			return
		}
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		if c.flavour == "opensearch" {
			writeJSON(w, 200, map[string]any{"name": "os1", "cluster_name": "fb", "cluster_uuid": "u",
				"version": map[string]any{"distribution": "opensearch", "number": "2.19.1", "build_type": "tar",
					"lucene_version": "9.12.1", "minimum_wire_compatibility_version": "7.10.0", "minimum_index_compatibility_version": "7.0.0"},
				"tagline": "The OpenSearch Project: https://opensearch.org/"})
		} else {
			writeJSON(w, 200, map[string]any{"name": "es1", "cluster_name": "fb", "cluster_uuid": "u",
				"version": map[string]any{"number": "8.19.7", "build_flavor": "default", "build_type": "docker",
					"lucene_version": "9.12.2", "minimum_wire_compatibility_version": "7.17.0", "minimum_index_compatibility_version": "7.0.0"},
				"tagline": "You Know, for Search"})
		}
	case r.Method == http.MethodPut && len(parts) == 2 && parts[0] == "_component_template":
		c.putComponent(w, parts[1], obj)
	case r.Method == http.MethodPut && len(parts) == 2 && parts[0] == "_index_template":
		c.putIndexTemplate(w, parts[1], obj)
	case r.Method == http.MethodPut && len(parts) == 3 && parts[0] == "_ilm" && parts[1] == "policy":
		if c.flavour == "opensearch" {
			c.refuse(w, 400, "illegal_argument_exception", "no handler found for uri [%s] and method [PUT]", r.URL.Path)
			return
		}
		c.putILM(w, parts[2], obj)
	case len(parts) == 4 && parts[0] == "_plugins" && parts[1] == "_ism" && parts[2] == "policies":
		if c.flavour != "opensearch" {
			c.refuse(w, 400, "illegal_argument_exception", "no handler found for uri [%s]", r.URL.Path)
			return
		}
		c.ismPolicy(w, r, parts[3], obj)
	case r.Method == http.MethodPost && len(parts) == 2 && parts[1] == "_search" && c.search != nil:
		if obj == nil {
			c.refuse(w, 400, "parse_exception", "search without a body")
			return
		}
		st, v := c.search(parts[0], obj)
		writeJSON(w, st, v)
	default:
		c.refuse(w, 404, "no_handler", "unexpected request %s %s", r.Method, r.URL.RequestURI())
	}
}

func onlyKeys(m map[string]any, allowed ...string) error {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("unknown key [%s]", k)
		}
	}
	return nil
}

func (c *fakeCluster) putComponent(w http.ResponseWriter, name string, obj map[string]any) {
	if !nameRE.MatchString(name) {
		c.refuse(w, 400, "invalid_index_template_exception", "name %q", name)
		return
	}
	if err := onlyKeys(obj, "template", "_meta", "version"); err != nil {
		c.refuse(w, 400, "x_content_parse_exception", "component template: %v", err)
		return
	}
	tpl, ok := obj["template"].(map[string]any)
	if !ok {
		c.refuse(w, 400, "action_request_validation_exception", "template is missing")
		return
	}
	if err := onlyKeys(tpl, "settings", "mappings", "aliases"); err != nil {
		c.refuse(w, 400, "x_content_parse_exception", "template: %v", err)
		return
	}
	if s, ok := tpl["settings"]; ok {
		for _, k := range flattenKeys("", s) {
			known := k == "index.codec" || (c.flavour == "elasticsearch" && k == "index.lifecycle.name")
			if !known {
				c.refuse(w, 400, "illegal_argument_exception", "unknown setting [%s]", k)
				return
			}
		}
	}
	if m, ok := tpl["mappings"]; ok {
		mm, ok := m.(map[string]any)
		if !ok {
			c.refuse(w, 400, "mapper_parsing_exception", "mappings is not an object")
			return
		}
		if err := c.checkObject("", mm, true); err != nil {
			c.refuse(w, 400, "mapper_parsing_exception", "%v", err)
			return
		}
	}
	c.component[name] = obj
	writeJSON(w, 200, map[string]any{"acknowledged": true})
}

// flattenKeys lists the dotted leaf keys of nested settings.
func flattenKeys(prefix string, v any) []string {
	m, ok := v.(map[string]any)
	if !ok {
		return []string{prefix}
	}
	var out []string
	for k, e := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		out = append(out, flattenKeys(p, e)...)
	}
	return out
}

// checkObject validates an object mapping: properties of fields (a type the flavour has and
// options it knows) or objects, and dynamic.
func (c *fakeCluster) checkObject(path string, m map[string]any, root bool) error {
	if err := onlyKeys(m, "properties", "dynamic", "type", "enabled"); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if d, ok := m["dynamic"]; ok {
		if b, isBool := d.(bool); !isBool && d != "strict" && d != "runtime" && d != "true" && d != "false" {
			return fmt.Errorf("%s: dynamic %v", path, d)
		} else if isBool && root && b {
			return fmt.Errorf("root mapping is dynamic: unknown fields would be mapped by guess")
		}
	}
	props, _ := m["properties"].(map[string]any)
	for k, v := range props {
		p := strings.TrimPrefix(path+"."+k, ".")
		f, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", p)
		}
		if typ, ok := f["type"].(string); ok && typ != "object" {
			if err := c.checkField(p, typ, f); err != nil {
				return err
			}
			continue
		}
		if _, ok := f["properties"]; !ok {
			return fmt.Errorf("%s: neither a type nor properties", p)
		}
		if err := c.checkObject(p, f, false); err != nil {
			return err
		}
	}
	return nil
}

func (c *fakeCluster) checkField(p, typ string, f map[string]any) error {
	types := []string{"keyword", "long", "integer", "short", "ip", "date", "text", "double", "float", "boolean"}
	if c.flavour == "elasticsearch" {
		types = append(types, "match_only_text", "flattened", "wildcard", "constant_keyword")
	} else {
		types = append(types, "flat_object")
	}
	if !slices.Contains(types, typ) {
		return fmt.Errorf("no handler for type [%s] declared on field [%s]", typ, p)
	}
	for k, v := range f {
		switch k {
		case "type":
		case "ignore_above":
			if typ != "keyword" {
				return fmt.Errorf("%s: ignore_above on %s", p, typ)
			}
		case "index", "doc_values":
			if _, ok := v.(bool); !ok {
				return fmt.Errorf("%s: %s not a boolean", p, k)
			}
		case "fields":
			sub, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: fields not an object", p)
			}
			for sk, sv := range sub {
				sf, _ := sv.(map[string]any)
				st, _ := sf["type"].(string)
				if err := c.checkField(p+"."+sk, st, sf); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unknown parameter [%s] on mapper [%s] of type [%s]", k, p, typ)
		}
	}
	return nil
}

func (c *fakeCluster) putIndexTemplate(w http.ResponseWriter, name string, obj map[string]any) {
	if !nameRE.MatchString(name) {
		c.refuse(w, 400, "invalid_index_template_exception", "name %q", name)
		return
	}
	if err := onlyKeys(obj, "index_patterns", "data_stream", "composed_of", "priority", "_meta", "template", "version"); err != nil {
		c.refuse(w, 400, "x_content_parse_exception", "index template: %v", err)
		return
	}
	pats, _ := obj["index_patterns"].([]any)
	if len(pats) == 0 {
		c.refuse(w, 400, "action_request_validation_exception", "index_patterns is missing")
		return
	}
	if _, ok := obj["data_stream"].(map[string]any); !ok {
		c.refuse(w, 400, "action_request_validation_exception", "data_stream is missing: firebreak writes data streams")
		return
	}
	if p, ok := obj["priority"].(float64); !ok || p != float64(int64(p)) || p < 0 {
		c.refuse(w, 400, "x_content_parse_exception", "priority %v", obj["priority"])
		return
	}
	comp, _ := obj["composed_of"].([]any)
	hasTimestamp := false
	for _, n := range comp {
		s, _ := n.(string)
		ct, ok := c.component[s]
		if !ok {
			c.refuse(w, 400, "invalid_index_template_exception", "index template [%s] specifies component templates [%s] that do not exist", name, s)
			return
		}
		if props, ok := dig(ct, "template", "mappings", "properties").(map[string]any); ok {
			if ts, ok := props["@timestamp"].(map[string]any); ok && ts["type"] == "date" {
				hasTimestamp = true
			}
		}
	}
	if !hasTimestamp {
		c.refuse(w, 400, "illegal_argument_exception", "data stream timestamp field [@timestamp] does not exist")
		return
	}
	// Two templates with the same priority may not match the same names.
	for on, ot := range c.index {
		if on != name && ot["priority"] == obj["priority"] {
			for _, a := range pats {
				if slices.Contains(ot["index_patterns"].([]any), a) {
					c.refuse(w, 400, "illegal_argument_exception", "index template [%s] has index patterns %v matching patterns from existing templates [%s] with the same priority", name, pats, on)
					return
				}
			}
		}
	}
	c.index[name] = obj
	writeJSON(w, 200, map[string]any{"acknowledged": true})
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

var ageRE = regexp.MustCompile(`^[0-9]+(d|h|m|s|ms)$`)

func (c *fakeCluster) putILM(w http.ResponseWriter, name string, obj map[string]any) {
	if err := onlyKeys(obj, "policy"); err != nil {
		c.refuse(w, 400, "x_content_parse_exception", "%v", err)
		return
	}
	pol, _ := obj["policy"].(map[string]any)
	if err := onlyKeys(pol, "phases", "_meta"); err != nil {
		c.refuse(w, 400, "x_content_parse_exception", "policy: %v", err)
		return
	}
	phases, _ := pol["phases"].(map[string]any)
	if len(phases) == 0 {
		c.refuse(w, 400, "x_content_parse_exception", "required [phases]")
		return
	}
	allowed := map[string][]string{"hot": {"rollover", "set_priority", "forcemerge", "readonly", "shrink"},
		"warm": {"allocate", "forcemerge", "readonly", "shrink", "set_priority"}, "cold": {"allocate", "set_priority"},
		"delete": {"delete", "wait_for_snapshot"}}
	for pn, pv := range phases {
		acts, ok := allowed[pn]
		ph, _ := pv.(map[string]any)
		if !ok || ph == nil {
			c.refuse(w, 400, "illegal_argument_exception", "unknown phase [%s]", pn)
			return
		}
		if err := onlyKeys(ph, "min_age", "actions"); err != nil {
			c.refuse(w, 400, "x_content_parse_exception", "phase %s: %v", pn, err)
			return
		}
		if ma, ok := ph["min_age"]; ok {
			if s, _ := ma.(string); !ageRE.MatchString(s) {
				c.refuse(w, 400, "illegal_argument_exception", "failed to parse setting [min_age] with value [%v]", ma)
				return
			}
		}
		am, _ := ph["actions"].(map[string]any)
		for a := range am {
			if !slices.Contains(acts, a) {
				c.refuse(w, 400, "illegal_argument_exception", "invalid action [%s] defined in phase [%s]", a, pn)
				return
			}
		}
		if ro, ok := am["rollover"].(map[string]any); ok && len(ro) == 0 {
			c.refuse(w, 400, "action_request_validation_exception", "rollover requires a condition")
			return
		}
	}
	c.ilm[name] = obj
	writeJSON(w, 200, map[string]any{"acknowledged": true})
}

func (c *fakeCluster) ismPolicy(w http.ResponseWriter, r *http.Request, name string, obj map[string]any) {
	cur := c.ism[name]
	switch r.Method {
	case http.MethodGet:
		if cur == nil {
			writeJSON(w, 404, map[string]any{"error": map[string]any{"root_cause": []any{map[string]any{"type": "status_exception", "reason": "Policy not found"}},
				"type": "status_exception", "reason": "Policy not found"}, "status": 404})
			return
		}
		writeJSON(w, 200, map[string]any{"_id": name, "_version": cur.version, "_seq_no": cur.seqNo, "_primary_term": 1, "policy": cur.body["policy"]})
		return
	case http.MethodPut:
	default:
		c.refuse(w, 405, "method_not_allowed", "%s", r.Method)
		return
	}
	q := r.URL.Query()
	if cur != nil {
		seq, err1 := strconv.Atoi(q.Get("if_seq_no"))
		term, err2 := strconv.Atoi(q.Get("if_primary_term"))
		if err1 != nil || err2 != nil || seq != cur.seqNo || term != 1 {
			c.refuse(w, 409, "version_conflict_engine_exception", "[%s]: version conflict, required seqNo [%s], primary term [%s]. current document has seqNo [%d] and primary term [1]",
				name, q.Get("if_seq_no"), q.Get("if_primary_term"), cur.seqNo)
			return
		}
	}
	pol, _ := obj["policy"].(map[string]any)
	if err := onlyKeys(obj, "policy"); err != nil || pol == nil {
		c.refuse(w, 400, "x_content_parse_exception", "policy: %v", err)
		return
	}
	if err := onlyKeys(pol, "description", "default_state", "states", "ism_template", "error_notification"); err != nil {
		c.refuse(w, 400, "x_content_parse_exception", "policy: %v", err)
		return
	}
	states, _ := pol["states"].([]any)
	names := map[string]bool{}
	for _, s := range states {
		sm, _ := s.(map[string]any)
		n, _ := sm["name"].(string)
		names[n] = true
	}
	if ds, _ := pol["default_state"].(string); !names[ds] {
		c.refuse(w, 400, "illegal_argument_exception", "Policy default state [%s] does not exist", ds)
		return
	}
	for _, s := range states {
		sm := s.(map[string]any)
		if err := onlyKeys(sm, "name", "actions", "transitions"); err != nil {
			c.refuse(w, 400, "x_content_parse_exception", "state: %v", err)
			return
		}
		for _, a := range sm["actions"].([]any) {
			for k := range a.(map[string]any) {
				if !slices.Contains([]string{"rollover", "delete", "read_only", "force_merge", "replica_count", "retry", "timeout"}, k) {
					c.refuse(w, 400, "illegal_argument_exception", "invalid action [%s]", k)
					return
				}
			}
		}
		for _, tr := range sm["transitions"].([]any) {
			tm := tr.(map[string]any)
			if to, _ := tm["state_name"].(string); !names[to] {
				c.refuse(w, 400, "illegal_argument_exception", "transition to missing state [%s]", to)
				return
			}
			if age, ok := dig(tm, "conditions", "min_index_age").(string); ok && !ageRE.MatchString(age) {
				c.refuse(w, 400, "illegal_argument_exception", "min_index_age [%s]", age)
				return
			}
		}
	}
	for _, it := range pol["ism_template"].([]any) {
		if pats, _ := dig(it, "index_patterns").([]any); len(pats) == 0 {
			c.refuse(w, 400, "illegal_argument_exception", "ism_template without index_patterns")
			return
		}
	}
	status := 201
	if cur == nil {
		cur = &ismPolicy{}
		c.ism[name] = cur
	} else {
		status = 200
	}
	cur.seqNo++
	cur.version++
	cur.body = obj
	writeJSON(w, status, map[string]any{"_id": name, "_version": cur.version, "_primary_term": 1, "_seq_no": cur.seqNo, "policy": obj})
}

// fakeKibana is Kibana's saved-objects import API: multipart, kbn-xsrf required, each line a
// saved object; it keeps what it imported.
type fakeKibana struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	objects map[string]map[string]any // type/id -> object
	imports int
}

func newFakeKibana(t *testing.T) *fakeKibana {
	k := &fakeKibana{t: t, objects: map[string]map[string]any{}}
	k.srv = httptest.NewServer(http.HandlerFunc(k.serve))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *fakeKibana) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, format string, args ...any) {
		k.t.Errorf("kibana refuses: "+format, args...)
		writeJSON(w, status, map[string]any{"statusCode": status, "error": http.StatusText(status), "message": fmt.Sprintf(format, args...)})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/saved_objects/_import" {
		fail(404, "unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	if r.Header.Get("kbn-xsrf") == "" {
		fail(400, "Request must contain a kbn-xsrf header.")
		return
	}
	if r.URL.Query().Get("overwrite") != "true" {
		fail(409, "import without overwrite: a second setup would conflict")
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		fail(415, "Unsupported Media Type %q", r.Header.Get("Content-Type"))
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var file []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(400, "multipart: %v", err)
			return
		}
		if p.FormName() == "file" {
			if !strings.HasSuffix(p.FileName(), ".ndjson") {
				fail(400, "Invalid file extension %q", p.FileName())
				return
			}
			file, _ = io.ReadAll(p)
		}
	}
	if file == nil {
		fail(400, "[request body.file]: expected value of type [Stream] but got [undefined]")
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.imports++
	var results []any
	sc := bufio.NewScanner(bytes.NewReader(file))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var o map[string]any
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			fail(400, "line is not a saved object: %v", err)
			return
		}
		typ, _ := o["type"].(string)
		id, _ := o["id"].(string)
		if typ == "" || id == "" || o["attributes"] == nil {
			fail(400, "saved object without type, id or attributes")
			return
		}
		if strings.Contains(sc.Text(), "{{") {
			fail(400, "%s %s still holds a placeholder", typ, id)
			return
		}
		k.objects[typ+"/"+id] = o
		results = append(results, map[string]any{"type": typ, "id": id, "meta": map[string]any{"title": dig(o, "attributes", "title")}})
	}
	writeJSON(w, 200, map[string]any{"success": true, "successCount": len(results), "successResults": results})
}
