package report

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
)

func TestDashboard(t *testing.T) {
	f := scenarioFixture(t)
	src := hostileSources(t, f)
	src.Store, src.Config = f.st, f.cfg
	now := dayEnd(f.incident(t, scenario.KindExfiltration).Start, f.cfg.Location())
	clock := now
	srv := httptest.NewServer(Handler(DashboardOptions{Sources: src, Now: func() time.Time { return clock }}))
	defer srv.Close()

	get := func(method, path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	for _, c := range []struct {
		path, ctype, want string
	}{
		{"/", "text/html", "Traffic by hour"},
		{"/?format=json", "application/json", `"traffic"`},
		{"/findings", "text/html", "&lt;script&gt;"},
		{"/findings?format=json", "application/json", `"new"`},
		{"/proposals", "text/html", "FIREBREAK_BLOCK"},
		{"/proposals?format=json", "application/json", `"pending"`},
		{"/blocks", "text/html", "203.0.113.7"},
		{"/blocks?format=json", "application/json", `"hit_count": 12`},
	} {
		resp, body := get(http.MethodGet, c.path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d: %s", c.path, resp.StatusCode, body)
			continue
		}
		if csp := resp.Header.Get("Content-Security-Policy"); csp != ContentSecurityPolicy {
			t.Errorf("GET %s: CSP %q", c.path, csp)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), c.ctype) || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %s without %q", c.path, resp.Header.Get("Content-Type"), c.want)
		}
		if strings.Contains(strings.ToLower(body), "<script") || strings.Contains(body, "<form") {
			t.Errorf("GET %s: script or form in the page", c.path)
		}
		if c.ctype == "application/json" && !json.Valid([]byte(body)) {
			t.Errorf("GET %s: invalid JSON", c.path)
		}
	}
	if resp, body := get(http.MethodHead, "/", nil); resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD / = %d with %d bytes", resp.StatusCode, len(body))
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		resp, _ := get(m, "/proposals", nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /proposals = %d, Allow %q; want 405", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no CSP on the refusal", m)
		}
	}
	if resp, _ := get(http.MethodGet, "/", map[string]string{"Host": "evil.example:8080"}); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("GET with a foreign Host = %d; want 421", resp.StatusCode)
	}
	if resp, _ := get(http.MethodGet, "/nothing", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nothing = %d; want 404", resp.StatusCode)
	}

	// The front page is cached per query: a rebuild happens only after MaxAge, or on
	// ?refresh after MinRefresh; the page says how old its data is.
	_, first := get(http.MethodGet, "/?format=json", nil)
	clock = now.Add(time.Second)
	if _, b := get(http.MethodGet, "/?format=json&refresh=1", nil); b != first {
		t.Error("refresh within MinRefresh rebuilt the report")
	}
	if _, b := get(http.MethodGet, "/", nil); !strings.Contains(b, "data as of") || !strings.Contains(b, ", 1 s old") {
		t.Error("front page does not say how old its data is")
	}
	clock = now.Add(5 * time.Second)
	if _, b := get(http.MethodGet, "/?format=json&refresh=1", nil); b == first {
		t.Error("refresh after MinRefresh did not rebuild the report")
	}
	_, second := get(http.MethodGet, "/?format=json", nil)
	clock = now.Add(10 * time.Second)
	if _, b := get(http.MethodGet, "/?format=json", nil); b != second {
		t.Error("report rebuilt before MaxAge")
	}
	clock = now.Add(25 * time.Second)
	if _, b := get(http.MethodGet, "/?format=json", nil); b == second {
		t.Error("report not rebuilt after MaxAge")
	}
}
