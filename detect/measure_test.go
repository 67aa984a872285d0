package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// TestIngestForMeasurement fills DIR/data from a `firebreak gen` directory named by
// FIREBREAK_MEASURE_DIR (asa1.log, routers.log, site.yaml, truth.json), with the scenario's
// end as the store's clock, so `firebreak detect --config DIR/site.yaml --data-dir DIR/data`
// can be measured on it. Skipped without the variable.
func TestIngestForMeasurement(t *testing.T) {
	dir := os.Getenv("FIREBREAK_MEASURE_DIR")
	if dir == "" {
		t.Skip("FIREBREAK_MEASURE_DIR not set")
	}
	cfg, err := policies.Load(filepath.Join(dir, scenario.FilePolicy))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, scenario.FileTruth))
	if err != nil {
		t.Fatal(err)
	}
	var truth scenario.Truth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	var logs [][]byte
	for _, n := range []string{scenario.FileASA, scenario.FileRouters} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, b)
	}
	now := func() time.Time { return truth.End }
	st, err := stats.Open(t.Context(), filepath.Join(dir, "data"), stats.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := feed(t.Context(), cfg, st, now, logs...); err != nil {
		t.Fatal(err)
	}
}
