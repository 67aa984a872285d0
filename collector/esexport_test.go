package collector

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

const teardown = `%ASA-6-302014: Teardown TCP connection 7 for outside:192.0.2.7/443 to inside:10.1.1.5/50001 duration 0:00:01 bytes 4000 TCP FINs`

func TestFromExport(t *testing.T) {
	for _, tc := range []struct {
		name, line, want string
		isJSON           bool
		err              bool
	}{
		{"plain syslog", "<166>Mar  3 08:15:02 fw " + teardown, "", false, false},
		{"bare document", `{"@timestamp":"2024-03-03T08:15:02.120Z","message":"` + teardown + `","host":{"hostname":"asa1"}}`,
			"2024-03-03T08:15:02.12Z asa1 : " + teardown, true, false},
		{"flattened names", `{"@timestamp":"2024-03-03T09:15:02+01:00","message":"` + teardown + `","observer.hostname":"asa1"}`,
			"2024-03-03T09:15:02+01:00 asa1 : " + teardown, true, false},
		{"_source and event.original", `{"_index":"logstash-2024.03.03","_source":{"@timestamp":"2024-03-03T08:15:02Z","message":"x","event":{"original":"<166>Mar  3 2024 08:15:02 asa1 : ` + teardown + `"}}}`,
			"<166>Mar  3 2024 08:15:02 asa1 : " + teardown, true, false},
		{"message with its own header", `{"@timestamp":"2024-03-03T08:15:02Z","message":"<166>Mar  3 2024 08:15:02 asa1 : ` + teardown + `\n"}`,
			"<166>Mar  3 2024 08:15:02 asa1 : " + teardown, true, false},
		{"no host", `{"@timestamp":"2024-03-03T08:15:02Z","message":"` + teardown + `"}`, "2024-03-03T08:15:02Z - : " + teardown, true, false},
		{"no message", `{"@timestamp":"2024-03-03T08:15:02Z","event":{"code":"302014"}}`, "", true, true},
		{"no time", `{"message":"` + teardown + `"}`, "", true, true},
		{"broken JSON", `{"@timestamp":`, "", true, true},
	} {
		got, isJSON, err := FromExport(nil, []byte(tc.line))
		if isJSON != tc.isJSON || (err != nil) != tc.err || string(got) != tc.want {
			t.Errorf("%s: %q %v %v, want %q %v err=%v", tc.name, got, isJSON, err, tc.want, tc.isJSON, tc.err)
		}
	}
}

// TestIngestElasticsearchExportKeepsTimes replays an NDJSON export of the old ELK stack and
// finds its bytes in the hour the documents name, not the hour of the replay.
func TestIngestElasticsearchExportKeepsTimes(t *testing.T) {
	cfg, err := policies.Parse("test.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	replayAt := time.Date(2024, 3, 4, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return replayAt }
	dir := t.TempDir()
	st, err := stats.Open(t.Context(), filepath.Join(dir, "data"), stats.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var export strings.Builder
	for i := range 10 {
		export.WriteString(`{"_source":{"@timestamp":"2024-03-03T08:15:0` + string(rune('0'+i)) + `Z","message":"` + teardown + `","host":{"name":"asa1"}}}` + "\n")
	}
	export.WriteString(`{"@timestamp":"2024-03-03T08:16:00Z","tags":["_grokparsefailure"]}` + "\n")
	file := filepath.Join(dir, "export.ndjson")
	if err := os.WriteFile(file, []byte(export.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(PipelineOptions{Config: cfg, Store: st, Now: clock, FlushEvery: time.Hour})
	res, err := Ingest(t.Context(), []string{file}, nil, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FromExport != 10 || res.ExportRefused != 1 || p.Status().Typed != 10 || p.Status().Unparsed != 1 {
		t.Fatalf("from export %d, refused %d, status %+v", res.FromExport, res.ExportRefused, p.Status())
	}
	hour := time.Date(2024, 3, 3, 8, 0, 0, 0, time.UTC)
	series, err := st.HostSeries(t.Context(), netip.MustParseAddr("10.1.1.5"), stats.Window{From: hour, To: hour.Add(time.Hour)}, stats.Hourly)
	if err != nil {
		t.Fatal(err)
	}
	var bytes uint64
	for _, b := range series {
		bytes += b.Bytes()
	}
	if bytes != 10*4000 {
		t.Errorf("bytes in 2024-03-03 08:00 = %d, want %d", bytes, 10*4000)
	}

	// parse reads the same documents with the same times.
	pr := ciscolog.NewParser(ciscolog.Options{Now: clock})
	var first time.Time
	if _, err := ReplayFile(t.Context(), file, nil, pr, func(ev *ciscolog.Event) error {
		if first.IsZero() {
			first = ev.Time
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !first.Equal(time.Date(2024, 3, 3, 8, 15, 0, 0, time.UTC)) {
		t.Errorf("parse: first event at %v", first)
	}
}
