package fakeasa

import (
	"strings"
	"testing"
)

// FuzzCommand types arbitrary lines at the fake and checks that it never
// panics and that whatever it renders loads back to the same text.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		"access-list OUTSIDE_IN line 1 extended deny ip object-group MGMT any",
		"access-list X remark hello world",
		"no access-list OUTSIDE_IN line 2 extended permit ip object-group MGMT any",
		"object-group network B\nnetwork-object 10.0.0.0 255.0.0.0\nno network-object host 1.1.1.1",
		"route outside 10.0.0.0 255.0.0.0 198.51.100.1 7",
		"access-list Y extended permit tcp any range 1 5 host 1.2.3.4 eq https log 4 interval 10 inactive",
		"access-group OUTSIDE_IN out interface outside",
		"no object-group network MGMT\nclear configure access-list OUTSIDE_IN",
		"hostname x.y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		if len(input) > 2000 {
			return
		}
		s, err := New(Config{RunningConfig: smallConfig})
		if err != nil {
			t.Fatal(err)
		}
		sess := &cliSession{srv: s, mode: modeConfig}
		for _, line := range strings.Split(input, "\n") {
			sess.run(line)
		}
		text := s.Running()
		m, err := parseRunningConfig(text)
		if err != nil {
			t.Fatalf("rendered config does not load: %v\n%s", err, text)
		}
		if got := m.render(); got != text {
			t.Fatalf("reload changed the config:\n%s\nvs\n%s", text, got)
		}
		sess.run("show access-list")
		sess.run("show running-config")
	})
}
