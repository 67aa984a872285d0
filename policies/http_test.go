package policies_test

import (
	"strings"
	"testing"

	"github.com/firebreak-dev/firebreak/policies"
)

func TestDashboardOffLoopbackNeedsTLSAndAuth(t *testing.T) {
	const head = "site: t\ninternal: [10.0.0.0/8]\ncollector:\n"
	for _, tc := range []struct {
		name, collector, wantErr string
	}{
		{"default is loopback", "  udp_listen: :5140\n", ""},
		{"loopback without auth", "  http_listen: 127.0.0.1:8080\n", ""},
		{"ipv6 loopback", "  http_listen: \"[::1]:8080\"\n", ""},
		{"every address, nothing set", "  http_listen: :8080\n", "tls_cert"},
		{"0.0.0.0, nothing set", "  http_listen: 0.0.0.0:8080\n", "needs TLS"},
		{"public, TLS but no credential", "  http_listen: 192.0.2.1:8443\n  http: {tls_cert: c.pem, tls_key: k.pem}\n", "token_env"},
		{"public, token but no TLS", "  http_listen: 192.0.2.1:8443\n  http: {token_env: DASH_TOKEN}\n", "tls_cert"},
		{"public, TLS and token", "  http_listen: 192.0.2.1:8443\n  http: {tls_cert: c.pem, tls_key: k.pem, token_env: DASH_TOKEN}\n", ""},
		{"public, TLS and basic auth", "  http_listen: \"[::]:8443\"\n  http: {tls_cert: c.pem, tls_key: k.pem, user: ops, password_file: /run/credentials/pw}\n", ""},
		{"user without password", "  http_listen: 127.0.0.1:8080\n  http: {user: ops}\n", "go together"},
		{"cert without key", "  http_listen: 127.0.0.1:8080\n  http: {tls_cert: c.pem}\n", "tls_key"},
		{"token twice", "  http_listen: 127.0.0.1:8080\n  http: {token_env: A, token_file: f}\n", "alternatives"},
		{"a plaintext password is refused", "  http_listen: 127.0.0.1:8080\n  http: {user: ops, password: hunter2}\n", "plaintext secrets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := policies.Parse("site.yaml", []byte(head+tc.collector))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if l := cfg.Collector.HTTPListen; tc.name == "default is loopback" && !policies.IsLoopbackListen(l) {
					t.Errorf("default http_listen %s is not loopback", l)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse error %v; want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}
