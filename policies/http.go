package policies

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// HTTPAccess secures the daemon's HTTP endpoint (dashboard and /metrics). The dashboard shows
// findings, usernames and raw lines, so on any address other than loopback it needs TLS and
// a token or basic auth. Secrets are never in the policy: each comes from an environment
// variable (*_env) or a file (*_file, first line, for systemd credentials or a secrets mount).
type HTTPAccess struct {
	TLSCert string `yaml:"tls_cert"` // PEM certificate chain file
	TLSKey  string `yaml:"tls_key"`  // PEM private key file
	// TokenEnv or TokenFile holds a bearer token ("Authorization: Bearer <token>").
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`
	// User with PasswordEnv or PasswordFile enables basic auth.
	User         string `yaml:"user"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	// AllowedHosts are the names people use to reach the dashboard (its Host header guard
	// accepts IP literals and localhost, and these).
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// HTTPCredentials are the resolved secrets of HTTPAccess; empty fields are not accepted.
type HTTPCredentials struct {
	Token          string
	User, Password string
}

// Any reports whether some credential is set.
func (c HTTPCredentials) Any() bool { return c.Token != "" || (c.User != "" && c.Password != "") }

// ErrMissingSecret is returned when a configured secret's variable or file is empty or absent.
var ErrMissingSecret = errors.New("secret not available")

// Credentials reads the token and the basic-auth password from their variables or files.
func (h HTTPAccess) Credentials() (HTTPCredentials, error) {
	var c HTTPCredentials
	var err error
	if c.Token, err = secret("token", h.TokenEnv, h.TokenFile); err != nil {
		return c, err
	}
	if h.User != "" {
		c.User = h.User
		if c.Password, err = secret("password", h.PasswordEnv, h.PasswordFile); err != nil {
			return c, err
		}
	}
	return c, nil
}

func secret(what, env, file string) (string, error) {
	switch {
	case env != "":
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("collector.http %s: $%s is empty or unset: %w", what, env, ErrMissingSecret)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("collector.http %s file: %w: %w", what, ErrMissingSecret, unwrapPath(err))
		}
		v, _, _ := strings.Cut(string(b), "\n")
		v = strings.TrimSuffix(v, "\r")
		if v == "" {
			return "", fmt.Errorf("collector.http %s file %s is empty: %w", what, file, ErrMissingSecret)
		}
		return v, nil
	}
	return "", nil
}

// IsLoopbackListen reports whether a host:port listen address binds loopback only
// (127.0.0.0/8, ::1 or localhost); an empty host binds every address.
func IsLoopbackListen(s string) bool {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func (v *validator) httpAccess() {
	c := &v.cfg.Collector
	h := c.HTTP
	const p = "$.collector.http."
	v.env(p+"token_env", h.TokenEnv)
	v.env(p+"password_env", h.PasswordEnv)
	if h.TokenEnv != "" && h.TokenFile != "" {
		v.errf(p+"token_file", "token_env and token_file are alternatives; set one")
	}
	if h.PasswordEnv != "" && h.PasswordFile != "" {
		v.errf(p+"password_file", "password_env and password_file are alternatives; set one")
	}
	if hasPW := h.PasswordEnv != "" || h.PasswordFile != ""; (h.User != "") != hasPW {
		v.errf(p+"user", "user and password_env (or password_file) go together")
	}
	if (h.TLSCert == "") != (h.TLSKey == "") {
		v.errf(p+"tls_key", "tls_cert and tls_key go together")
	}
	if c.HTTPListen == Off || c.HTTPListen == "" || IsLoopbackListen(c.HTTPListen) {
		return
	}
	if h.TLSCert == "" {
		v.errf(p+"tls_cert", "http_listen %s is not a loopback address: the dashboard shows findings, usernames and raw lines, so it needs TLS (tls_cert, tls_key) and a token (token_env or token_file) or basic auth (user, password_env)", c.HTTPListen)
	}
	if h.TokenEnv == "" && h.TokenFile == "" && h.User == "" {
		v.errf(p+"token_env", "http_listen %s is not a loopback address: set a token (token_env or token_file) or basic auth (user, password_env)", c.HTTPListen)
	}
}
