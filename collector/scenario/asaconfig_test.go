package scenario

import (
	"net/netip"
	"testing"

	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// The ASA configuration agrees with the site policy: the ACLs and interfaces the policy names
// exist, the syslog source is the management address, and it parses without warnings.
func TestASAConfigMatchesPolicy(t *testing.T) {
	site := DefaultSite()
	cfg, err := asaconfig.Parse(site.ASAConfig())
	if err != nil {
		t.Fatal(err)
	}
	if w := cfg.Warnings(); len(w) > 0 {
		t.Errorf("config has lines the model does not understand: %v", w)
	}
	pol, err := site.Policy()
	if err != nil {
		t.Fatal(err)
	}
	p, err := policies.Parse("site.yaml", pol)
	if err != nil {
		t.Fatal(err)
	}
	dev, ok := p.DeviceByName("asa1")
	if !ok {
		t.Fatal("policy has no asa1")
	}
	for _, acl := range []string{dev.OutsideACL, dev.InsideACL} {
		if _, ok := cfg.ACL(acl); !ok {
			t.Errorf("ACL %s named by the policy is not in the config", acl)
		}
	}
	for _, ifc := range []string{dev.OutsideInterface, dev.InsideInterface} {
		if _, ok := cfg.InterfaceByName(ifc); !ok {
			t.Errorf("interface %s named by the policy is not in the config", ifc)
		}
	}
	mgmt, _ := cfg.InterfaceByName("management")
	if len(dev.SyslogSources) == 0 || !mgmt.Address.Masked().Contains(dev.SyslogSources[0]) {
		t.Errorf("syslog source %v is not on the management interface", dev.SyslogSources)
	}
	// The ASA protects its own neighbours: the collector (logging host) and the NTP server.
	for _, a := range []string{"10.10.0.50", "10.1.10.10"} {
		found := false
		for _, pr := range cfg.SelfProtected() {
			if pr.Prefix.Contains(netip.MustParseAddr(a)) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s is not self-protected", a)
		}
	}
}
