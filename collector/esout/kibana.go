package esout

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/netip"
	"strings"

	"github.com/firebreak-dev/firebreak/policies"
)

// kibanaNDJSON are firebreak's Kibana saved objects (data views, visualizations, a saved
// search and a dashboard) in the export format, one object per line. Strings in it may hold
// placeholders KibanaObjects fills from the site's policy: {{events}} and {{findings}} (the
// output's stream names), {{internal}}, {{servers}} and {{printers}} (KQL lists of the site's
// prefixes, all of them, the server roles', the printers').
//
//go:embed kibana/firebreak.ndjson
var kibanaNDJSON []byte

// KibanaTemplate returns the saved objects as they are in the repository (placeholders in).
func KibanaTemplate() []byte { return bytes.Clone(kibanaNDJSON) }

// serverRoles are the roles whose hosts serve: "servers by external peer bytes" ranks them.
var serverRoles = []string{policies.RoleServers, policies.RoleTerminalServers, policies.RoleDMZ, policies.RoleVMHosts,
	policies.RoleDomainControllers, policies.RolePrintServers, policies.RoleSAN, policies.RoleTestServers}

// KibanaObjects fills the saved objects for an output of a site: the data views name the
// output's streams, the queries the site's prefixes.
func KibanaObjects(cfg *policies.Config, po policies.Output) ([]byte, error) {
	var internal, servers, printers []netip.Prefix
	for _, n := range cfg.Networks {
		internal = append(internal, n.Prefixes...)
		for _, r := range serverRoles {
			if n.Role == r {
				servers = append(servers, n.Prefixes...)
			}
		}
		if n.Role == policies.RolePrinters {
			printers = append(printers, n.Prefixes...)
		}
	}
	repl := strings.NewReplacer(
		"{{events}}", po.Streams.ASA+","+po.Streams.IOS,
		"{{findings}}", po.Streams.Findings,
		"{{internal}}", kqlPrefixes(internal),
		"{{servers}}", kqlPrefixes(servers),
		"{{printers}}", kqlPrefixes(printers),
	)
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(kibanaNDJSON))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var obj any
		if err := json.Unmarshal(line, &obj); err != nil {
			return nil, fmt.Errorf("kibana objects: %w", err)
		}
		b, err := json.Marshal(fill(obj, repl))
		if err != nil {
			return nil, fmt.Errorf("kibana objects: %w", err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes(), sc.Err()
}

// kqlPrefixes is a KQL value list of prefixes ("10.1.30.0/23" or "10.2.30.0/23"); with none,
// the documentation prefix 192.0.2.0/32, which no site's traffic has, so the panel stays empty
// rather than matching everything.
func kqlPrefixes(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return `"192.0.2.0/32"`
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = `"` + p.Masked().String() + `"`
	}
	return strings.Join(s, " or ")
}

// fill replaces placeholders in every string of v; a string that holds a JSON object or
// array (visState, searchSourceJSON, panelsJSON) is filled inside and written back.
func fill(v any, r *strings.Replacer) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = fill(e, r)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fill(e, r)
		}
		return x
	case string:
		if t := strings.TrimSpace(x); len(t) > 1 && (t[0] == '{' || t[0] == '[') {
			var inner any
			if json.Unmarshal([]byte(t), &inner) == nil {
				b, err := json.Marshal(fill(inner, r))
				if err == nil {
					return string(b)
				}
			}
		}
		return r.Replace(x)
	}
	return v
}

const kibanaImportPath = "/api/saved_objects/_import?overwrite=true"

// importKibana posts the saved objects to Kibana's (or OpenSearch Dashboards') import API
// as a multipart file and returns how many it accepted.
func importKibana(ctx context.Context, po policies.Output, tr http.RoundTripper, ndjson []byte) (int, error) {
	if tr == nil {
		var err error
		if tr, err = Transport(po); err != nil {
			return 0, err
		}
	}
	sec, err := po.Secrets()
	if err != nil {
		return 0, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "firebreak.ndjson")
	if err != nil {
		return 0, fmt.Errorf("kibana import: %w", err)
	}
	fw.Write(ndjson)
	mw.Close()
	u := strings.TrimRight(po.KibanaURL, "/") + kibanaImportPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return 0, fmt.Errorf("kibana import: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("kbn-xsrf", "true") // Kibana refuses API writes without it
	req.Header.Set("osd-xsrf", "true") // OpenSearch Dashboards' name for it
	switch {
	case sec.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+sec.APIKey)
	case sec.User != "":
		req.SetBasicAuth(sec.User, sec.Password)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("kibana import: %w", err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("kibana import: status %d: %s: %w", resp.StatusCode, firstLine(rb), ErrCluster)
	}
	var r struct {
		Success      bool `json:"success"`
		SuccessCount int  `json:"successCount"`
		Errors       []struct {
			ID    string `json:"id"`
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rb, &r); err != nil {
		return 0, fmt.Errorf("kibana import: answer not understood: %s", firstLine(rb))
	}
	if !r.Success {
		var es []string
		for _, e := range r.Errors {
			es = append(es, fmt.Sprintf("%s %s: %s %s", e.Type, e.ID, e.Error.Type, e.Error.Message))
		}
		return r.SuccessCount, fmt.Errorf("kibana import: %d imported, refused: %s: %w", r.SuccessCount, strings.Join(es, "; "), ErrCluster)
	}
	return r.SuccessCount, nil
}
