package policies

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Output kinds: the cluster a policy's outputs entry ships to.
const (
	OutputElasticsearch = "elasticsearch"
	OutputOpenSearch    = "opensearch"
)

// Output is one Elasticsearch or OpenSearch cluster that receives every parsed event as ECS,
// and the findings and proposals, through a bounded queue in the data folder (collector/esout).
// Secrets are never in the policy: the API key and the basic-auth password come from
// environment variables.
type Output struct {
	Name string   `yaml:"name"` // names the queue folder and the metrics' output label
	Kind string   `yaml:"kind"` // elasticsearch (default) or opensearch
	URLs []string `yaml:"urls"` // http(s)://host:port of one or more nodes
	// APIKeyEnv names a variable holding an Elasticsearch API key (the base64 "id:key" form
	// Kibana shows as "encoded"). User with PasswordEnv is basic auth (OpenSearch's usual).
	APIKeyEnv   string `yaml:"api_key_env"`
	User        string `yaml:"user"`
	PasswordEnv string `yaml:"password_env"`
	CAFile      string `yaml:"ca_file"`     // PEM CA bundle for the cluster's certificate
	ClientCert  string `yaml:"client_cert"` // optional PEM client certificate (mutual TLS)
	ClientKey   string `yaml:"client_key"`
	// Namespace is the data streams' namespace (logs-<dataset>-<namespace>); default "default".
	Namespace string `yaml:"namespace"`
	// Streams override the data stream names; empty ones follow the conventions.
	Streams OutputStreams `yaml:"streams"`
	// QueueMaxBytes bounds the on-disk queue; when full, the oldest events are dropped and
	// counted. Default 1GiB.
	QueueMaxBytes ByteSize `yaml:"queue_max_bytes"`
	// BatchBytes is the largest _bulk body sent (a 413 halves it for that batch). Default 5MiB.
	BatchBytes ByteSize `yaml:"batch_bytes"`
	// Workers is how many _bulk requests are in flight at once (acknowledged in queue
	// order). Default 4.
	Workers int `yaml:"workers"`
	// Retention is how long the cluster keeps the data (the ILM/ISM delete phase of
	// `firebreak es setup`); default the policy's retention.raw.
	Retention Duration `yaml:"retention"`
	// KibanaURL, when set, is where `firebreak es setup` imports the saved objects.
	KibanaURL string `yaml:"kibana_url"`
}

// OutputStreams are the data streams (or indices) one output writes.
type OutputStreams struct {
	ASA       string `yaml:"asa"`       // default logs-cisco_asa.log-<namespace>
	IOS       string `yaml:"ios"`       // default logs-cisco_ios.log-<namespace>
	Findings  string `yaml:"findings"`  // default logs-firebreak.findings-<namespace>
	Proposals string `yaml:"proposals"` // default logs-firebreak.proposals-<namespace>
}

// OutputSecrets are an output's resolved credentials.
type OutputSecrets struct {
	APIKey         string
	User, Password string
}

// Secrets reads the API key and password from their variables.
func (o Output) Secrets() (OutputSecrets, error) {
	s := OutputSecrets{User: o.User}
	get := func(what, env string) (string, error) {
		if env == "" {
			return "", nil
		}
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("outputs %s %s: $%s is empty or unset: %w", o.Name, what, env, ErrMissingSecret)
		}
		return v, nil
	}
	var err error
	if s.APIKey, err = get("api_key", o.APIKeyEnv); err != nil {
		return s, err
	}
	if s.Password, err = get("password", o.PasswordEnv); err != nil {
		return s, err
	}
	return s, nil
}

func (v *validator) outputs() {
	names := map[string]int{}
	for i := range v.cfg.Outputs {
		o := &v.cfg.Outputs[i]
		p := idx("$.outputs", i)
		v.name(p+".name", o.Name, true)
		if j, dup := names[o.Name]; dup && o.Name != "" {
			v.errf(p+".name", "duplicate output name %q (also at %s)", o.Name, v.where(idx("$.outputs", j)+".name"))
		}
		names[o.Name] = i
		if o.Kind == "" {
			o.Kind = OutputElasticsearch
		}
		if o.Kind != OutputElasticsearch && o.Kind != OutputOpenSearch {
			v.errf(p+".kind", "kind %q must be %q or %q", o.Kind, OutputElasticsearch, OutputOpenSearch)
		}
		if len(o.URLs) == 0 {
			v.errf(p+".urls", "required: the cluster's node URLs (https://host:9200)")
		}
		for k, s := range o.URLs {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.errf(idx(p+".urls", k), "%q is not an http(s)://host:port URL", s)
			} else if u.User != nil {
				v.errf(idx(p+".urls", k), "credentials in the URL are not allowed in a policy; use api_key_env or user and password_env")
			}
		}
		if o.KibanaURL != "" {
			if u, err := url.Parse(o.KibanaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
				v.errf(p+".kibana_url", "%q is not an http(s)://host:port URL without credentials", o.KibanaURL)
			}
		}
		v.env(p+".api_key_env", o.APIKeyEnv)
		v.env(p+".password_env", o.PasswordEnv)
		if (o.User != "") != (o.PasswordEnv != "") {
			v.errf(p+".user", "user and password_env go together")
		}
		if o.APIKeyEnv != "" && o.User != "" {
			v.errf(p+".api_key_env", "api_key_env and user/password_env are alternatives; set one")
		}
		switch {
		case o.ClientCert != "" && o.ClientKey == "":
			v.errf(p+".client_cert", "client_cert and client_key go together")
		case o.ClientCert == "" && o.ClientKey != "":
			v.errf(p+".client_key", "client_cert and client_key go together")
		}
		for k, f := range map[string]*string{"ca_file": &o.CAFile, "client_cert": &o.ClientCert, "client_key": &o.ClientKey} {
			if *f != "" && !filepath.IsAbs(*f) {
				if dir := v.loc.dirOf(p + "." + k); dir != "" {
					*f = filepath.Join(dir, *f)
				}
			}
		}
		if o.Namespace == "" {
			o.Namespace = "default"
		}
		// Elastic's naming scheme: no '-' in a namespace, lower case, at most 100 bytes.
		if len(o.Namespace) > 100 || strings.ContainsAny(o.Namespace, `-\/*?"<>| ,#:`) || strings.ToLower(o.Namespace) != o.Namespace {
			v.errf(p+".namespace", "namespace %q must be lower case, at most 100 bytes, without '-' or any of \\/*?\"<>| ,#:", o.Namespace)
		}
		for k, s := range map[string]*string{"asa": &o.Streams.ASA, "ios": &o.Streams.IOS, "findings": &o.Streams.Findings, "proposals": &o.Streams.Proposals} {
			def := map[string]string{"asa": "logs-cisco_asa.log-", "ios": "logs-cisco_ios.log-",
				"findings": "logs-firebreak.findings-", "proposals": "logs-firebreak.proposals-"}[k]
			if *s == "" {
				*s = def + o.Namespace
			} else if strings.ContainsAny(*s, `\/*?"<>| ,#:`) || strings.ToLower(*s) != *s || strings.HasPrefix(*s, "_") || strings.HasPrefix(*s, "-") {
				v.errf(p+".streams."+k, "%q is not a valid index or data stream name", *s)
			}
		}
		if o.QueueMaxBytes == 0 {
			o.QueueMaxBytes = 1 << 30
		}
		if o.QueueMaxBytes < 1<<20 || o.QueueMaxBytes > 1<<40 {
			v.errf(p+".queue_max_bytes", "%s is out of range 1MiB-1TiB", o.QueueMaxBytes)
		}
		if o.BatchBytes == 0 {
			o.BatchBytes = 5 << 20
		}
		if o.BatchBytes < 4<<10 || o.BatchBytes > 100<<20 {
			v.errf(p+".batch_bytes", "%s is out of range 4KiB-100MiB", o.BatchBytes)
		}
		if o.Workers == 0 {
			o.Workers = 4
		}
		if o.Workers < 1 || o.Workers > 32 {
			v.errf(p+".workers", "%d is out of range 1-32", o.Workers)
		}
		if o.Retention == 0 {
			o.Retention = v.cfg.Retention.Raw
		}
		v.durBetween(p+".retention", o.Retention, 24*time.Hour, 100*365*24*time.Hour)
	}
}
