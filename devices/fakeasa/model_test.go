package fakeasa

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRunningConfigRoundTrip(t *testing.T) {
	for _, name := range []string{"clinic.cfg", "clinic-names.cfg"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "asa-config", name))
			if err != nil {
				t.Skipf("sample config: %v", err)
			}
			m, err := parseRunningConfig(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(b), m.render()); diff != "" {
				t.Errorf("render differs from input (-want +got):\n%s", diff)
			}
		})
	}
}
