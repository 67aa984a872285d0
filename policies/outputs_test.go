package policies_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
)

func TestOutputsDefaultsAndSecrets(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "site.yaml")
	yaml := `site: tiny
devices:
  - {name: fw, kind: asa, syslog_sources: [192.0.2.1]}
retention: {raw: 30d}
outputs:
  - name: central
    urls: [https://es1:9200]
    api_key_env: FB_TEST_ES_KEY
    ca_file: ca.pem
  - name: os
    kind: opensearch
    urls: [http://127.0.0.1:9200]
    user: firebreak
    password_env: FB_TEST_OS_PW
    namespace: clinic
    streams: {findings: firebreak-findings}
`
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, p)
	es, os2 := c.Outputs[0], c.Outputs[1]
	if es.Kind != policies.OutputElasticsearch || es.Namespace != "default" || es.Streams.ASA != "logs-cisco_asa.log-default" ||
		es.Streams.Proposals != "logs-firebreak.proposals-default" || es.CAFile != filepath.Join(dir, "ca.pem") ||
		es.QueueMaxBytes != 1<<30 || es.BatchBytes != 5<<20 || time.Duration(es.Retention) != 30*24*time.Hour {
		t.Errorf("defaults: %+v", es)
	}
	if os2.Streams.IOS != "logs-cisco_ios.log-clinic" || os2.Streams.Findings != "firebreak-findings" {
		t.Errorf("streams: %+v", os2.Streams)
	}
	if _, err := es.Secrets(); !errors.Is(err, policies.ErrMissingSecret) {
		t.Errorf("unset api key: %v, want ErrMissingSecret", err)
	}
	t.Setenv("FB_TEST_ES_KEY", "aWQ6a2V5")
	t.Setenv("FB_TEST_OS_PW", "pw")
	if s, err := es.Secrets(); err != nil || s.APIKey != "aWQ6a2V5" {
		t.Errorf("api key: %+v %v", s, err)
	}
	if s, err := os2.Secrets(); err != nil || s.User != "firebreak" || s.Password != "pw" {
		t.Errorf("basic auth: %+v %v", s, err)
	}
}
