package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, made here, and returns the
// files and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "firebreak test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "dash.crt"), filepath.Join(dir, "dash.key")
	write(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

// startServe runs serve in-process on the policy (its data folder under dir) with the extra
// arguments, and returns when the API socket exists. stop ends the daemon the way SIGTERM does,
// checks its exit status and returns what it wrote to stderr; it runs at the end of the test
// in any case.
func startServe(t *testing.T, dir, policy string, extra ...string) (stop func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var (
		serveErr syncBuffer
		code     int
		finished = make(chan struct{})
		once     sync.Once
	)
	args := append([]string{"serve", "--config", policy}, extra...)
	go func() {
		code = run(ctx, args, strings.NewReader(""), io.Discard, &serveErr)
		close(finished)
	}()
	stop = func() string {
		once.Do(func() {
			cancel()
			<-finished
			if code != 0 {
				t.Errorf("serve exit %d: %s", code, serveErr.String())
			}
		})
		return serveErr.String()
	}
	t.Cleanup(func() { stop() })
	sock := filepath.Join(dir, "data", "firebreak.sock")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return stop
		}
		select {
		case <-finished:
			t.Fatalf("serve exited %d: %s", code, serveErr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not start: %s", serveErr.String())
		}
		time.Sleep(10 * time.Millisecond) // waiting for a condition, with a deadline
	}
}

// TestDashboardTLSAndAuth serves the dashboard with TLS (a certificate made in the test), a
// bearer token from the environment and basic auth with a password from a file, on a real
// loopback listener: nothing is answered without a credential, plain HTTP gets no page.
func TestDashboardTLSAndAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	const token, password = "tok-3f9a1c77e2", "pw-b81d0e44"
	t.Setenv("FIREBREAK_TEST_DASH_TOKEN", token)
	pwFile := filepath.Join(dir, "dash.pw")
	write(t, pwFile, password+"\n")
	policy := filepath.Join(dir, "site.yaml")
	write(t, policy, `site: t
collector:
  udp_listen: 127.0.0.1:0
  tcp_listen: "off"
  http_listen: 127.0.0.1:0
  data_dir: data
  http:
    tls_cert: `+certFile+`
    tls_key: `+keyFile+`
    token_env: FIREBREAK_TEST_DASH_TOKEN
    user: ops
    password_file: `+pwFile+`
devices:
  - {name: asa1, kind: asa, syslog_sources: [127.0.0.1]}
networks:
  - {name: lan, role: workstations, prefixes: [10.0.0.0/8]}
`)
	startServe(t, dir, policy)
	code, out, errOut := runCLI(t, "", "status", "--config", policy)
	if code != 0 {
		t.Fatalf("status exit %d: %s", code, errOut)
	}
	m := regexp.MustCompile(`http (127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no http address in status:\n%s", out)
	}
	addr := m[1]
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(scheme, path string, set func(*http.Request)) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, scheme+"://"+addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if set != nil {
			set(req)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	for _, c := range []struct {
		name, path string
		set        func(*http.Request)
		want       int
	}{
		{"no credential", "/findings", nil, http.StatusUnauthorized},
		{"no credential, metrics", "/metrics", nil, http.StatusUnauthorized},
		{"no credential, report", "/", nil, http.StatusUnauthorized},
		{"wrong token", "/findings", bearer(token + "x"), http.StatusUnauthorized},
		{"token prefix", "/findings", bearer(token[:5]), http.StatusUnauthorized},
		{"token as basic password", "/findings", basic("ops", token), http.StatusUnauthorized},
		{"wrong password", "/findings", basic("ops", password+"x"), http.StatusUnauthorized},
		{"wrong user", "/findings", basic("admin", password), http.StatusUnauthorized},
		{"token", "/findings", bearer(token), http.StatusOK},
		{"token, metrics", "/metrics", bearer(token), http.StatusOK},
		{"basic auth", "/findings", basic("ops", password), http.StatusOK},
	} {
		code, body := get("https", c.path, c.set)
		if code != c.want {
			t.Errorf("%s: GET %s = %d, want %d (%.200s)", c.name, c.path, code, c.want, body)
		}
		if code == http.StatusUnauthorized && strings.Contains(body, "Findings") {
			t.Errorf("%s: a refused request got the page", c.name)
		}
	}
	if code, body := get("http", "/findings", bearer(token)); code == http.StatusOK || strings.Contains(body, "Findings of the last") {
		t.Errorf("plain HTTP to the TLS port: %d %.200s", code, body)
	}
	// A client that does not trust the certificate gets no connection.
	if _, err := (&http.Client{Timeout: 10 * time.Second}).Get("https://" + addr + "/findings"); err == nil {
		t.Error("a client without the test CA connected")
	}
}

// TestServeRefusesPublicDashboardWithoutSecret: validation requires a credential off
// loopback, and a token whose variable is empty does not open the door either.
func TestServeRefusesPublicDashboardWithoutSecret(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	t.Setenv("FIREBREAK_TEST_DASH_EMPTY", "")
	policy := filepath.Join(dir, "site.yaml")
	write(t, policy, `site: t
collector:
  udp_listen: 127.0.0.1:0
  tcp_listen: "off"
  http_listen: 127.0.0.1:0
  data_dir: data
  http: {tls_cert: `+certFile+`, tls_key: `+keyFile+`, token_env: FIREBREAK_TEST_DASH_EMPTY}
devices:
  - {name: asa1, kind: asa, syslog_sources: [127.0.0.1]}
`)
	code, _, errOut := runCLI(t, "", "serve", "--config", policy)
	if code == 0 || !strings.Contains(errOut, "FIREBREAK_TEST_DASH_EMPTY") {
		t.Errorf("serve with an empty token: exit %d, %q", code, errOut)
	}
	write(t, policy, "site: t\ncollector: {http_listen: \"0.0.0.0:0\", data_dir: data}\ndevices:\n  - {name: asa1, kind: asa, syslog_sources: [127.0.0.1]}\n")
	code, _, errOut = runCLI(t, "", "serve", "--config", policy)
	if code == 0 || !strings.Contains(errOut, "tls_cert") {
		t.Errorf("serve on 0.0.0.0 without TLS or credentials: exit %d, %q", code, errOut)
	}
}
