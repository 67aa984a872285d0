package policies_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-dev/firebreak/policies"
)

const fixtures = "../testdata/policies"

func mustLoad(t testing.TB, path string) *policies.Config {
	t.Helper()
	c, err := policies.Load(path)
	if err != nil {
		t.Fatalf("Load(%q):\n%v", path, err)
	}
	return c
}

func TestGoodFixturesLoad(t *testing.T) {
	paths := []string{
		filepath.Join(fixtures, "example.yaml"),
		filepath.Join(fixtures, "schema-sketch.yaml"),
		filepath.Join(fixtures, "good", "folder"),
	}
	more, err := filepath.Glob(filepath.Join(fixtures, "good", "*.yaml"))
	if err != nil || len(more) == 0 {
		t.Fatalf("no good fixtures: %v", err)
	}
	for _, p := range append(paths, more...) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			c := mustLoad(t, p)
			if out := policies.Explain(c, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); !strings.Contains(out, c.Site) {
				t.Errorf("Explain does not name the site %q:\n%s", c.Site, out)
			}
		})
	}
}

// Each bad/NAME.err lists, one a line and in order, a substring of every error Load must
// return for bad/NAME.yaml (or the folder bad/NAME): no more errors, no fewer. " ... " in a
// line separates substrings that must appear in that order.
func TestBadFixturesFail(t *testing.T) {
	errFiles, err := filepath.Glob(filepath.Join(fixtures, "bad", "*.err"))
	if err != nil || len(errFiles) < 20 {
		t.Fatalf("want at least 20 bad fixtures, got %d (%v)", len(errFiles), err)
	}
	for _, ef := range errFiles {
		name := strings.TrimSuffix(filepath.Base(ef), ".err")
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(ef)
			if err != nil {
				t.Fatal(err)
			}
			path := strings.TrimSuffix(ef, ".err")
			if _, err := os.Stat(path); err != nil {
				path += ".yaml"
			}
			c, err := policies.Load(path)
			if err == nil {
				t.Fatalf("Load(%q) succeeded, want errors:\n%s", path, want)
			}
			if c != nil {
				t.Errorf("Load(%q) returned a Config with its error", path)
			}
			var list policies.Errors
			if !errors.As(err, &list) {
				t.Fatalf("Load(%q) error is %T, want policies.Errors", path, err)
			}
			lines := strings.Split(strings.TrimSpace(string(want)), "\n")
			if len(list) != len(lines) {
				t.Fatalf("Load(%q) gave %d errors, want %d:\n%v", path, len(list), len(lines), err)
			}
			for i, w := range lines {
				// " ... " separates parts that must appear in this order.
				got, rest := list[i].Error(), list[i].Error()
				for _, part := range strings.Split(w, " ... ") {
					k := strings.Index(rest, part)
					if k < 0 {
						t.Errorf("error %d = %q\nwant it to contain %q", i, got, w)
						break
					}
					rest = rest[k+len(part):]
				}
				if list[i].Line == 0 || list[i].File == "" {
					t.Errorf("error %d has no place: %+v", i, list[i])
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    policies.Error
		want string
	}{
		{policies.Error{File: "a.yaml", Line: 3, Column: 7, Field: "site", Msg: "required"}, "a.yaml:3:7: site: required"},
		{policies.Error{File: "a.yaml", Msg: "cannot read policy"}, "a.yaml: cannot read policy"},
		{policies.Error{Field: "x", Msg: "m"}, "x: m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q; want %q", got, tc.want)
		}
	}
	var err error = policies.Errors{{File: "a", Line: 1, Column: 1, Msg: "one"}, {File: "b", Line: 2, Column: 1, Msg: "two"}}
	if got, want := err.Error(), "a:1:1: one\nb:2:1: two"; got != want {
		t.Errorf("Errors.Error() = %q; want %q", got, want)
	}
	var one *policies.Error
	if !errors.As(err, &one) || one.Msg != "one" {
		t.Errorf("errors.As(Errors, *Error) = %v, %+v; want the first error", errors.As(err, &one), one)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := policies.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml: cannot read policy") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v; want a cannot-read error naming the file, wrapping fs.ErrNotExist", err)
	}
	_, err = policies.Load(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no *.yaml files") {
		t.Errorf("Load(empty dir) = %v; want a no-files error", err)
	}
}

func TestDefaultsApplied(t *testing.T) {
	c := mustLoad(t, filepath.Join(fixtures, "good", "minimal.yaml"))
	d := policies.Default()
	if diff := cmp.Diff(d.Detectors, c.Detectors); diff != "" {
		t.Errorf("detectors differ from Default() (-default +loaded):\n%s", diff)
	}
	if diff := cmp.Diff(d.Retention, c.Retention); diff != "" {
		t.Errorf("retention differs from Default():\n%s", diff)
	}
	co := c.Collector
	if co.UDPListen != ":5140" || co.TCPListen != ":5140" || co.HTTPListen != "127.0.0.1:8080" ||
		time.Duration(co.FlushInterval) != time.Second {
		t.Errorf("collector defaults = %+v", co)
	}
	if got, want := co.APISocketPath(), filepath.Join("firebreak-data", "firebreak.sock"); got != want {
		t.Errorf("APISocketPath() = %q; want %q", got, want)
	}
	if got := time.Duration(c.Retention.Hourly); got != 35*24*time.Hour {
		t.Errorf("retention.hourly = %v; want 35d", got)
	}
	dev := c.Devices[0]
	if dev.ObjectGroup != policies.DefaultObjectGroup || dev.OutsideACL != "outside_access_in" ||
		dev.SSH.Port != 22 || dev.Timezone != "UTC" || dev.Location() != time.UTC {
		t.Errorf("device defaults = %+v", dev)
	}
	if c.Location() != time.UTC || c.Schedules.Location() != time.UTC || c.Schedules.Detect != "@every 1h" {
		t.Errorf("zones/schedules = %v %v %q", c.Location(), c.Schedules.Location(), c.Schedules.Detect)
	}
	if c.Report.OutDir != filepath.Join("firebreak-data", "reports") {
		t.Errorf("report.out_dir = %q", c.Report.OutDir)
	}
	// Default() hands out a fresh value each time.
	d.Ports["default"] = nil
	if len(policies.Default().Ports["default"]) == 0 {
		t.Error("Default() shares its maps between calls")
	}
}

func TestFileListReplacesDefaultList(t *testing.T) {
	c, err := policies.Parse("p.yaml", []byte("site: s\nports:\n  default: [tcp/443]\n  printers: [tcp/9100]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]policies.Port{
		"default":  {{Proto: policies.ProtoTCP, Num: 443}},
		"printers": {{Proto: policies.ProtoTCP, Num: 9100}},
	}
	if diff := cmp.Diff(want, c.Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
}

func TestFolderMerge(t *testing.T) {
	dir := filepath.Join(fixtures, "good", "folder")
	c := mustLoad(t, dir)
	var names []string
	for _, n := range c.Networks {
		names = append(names, n.Name)
	}
	if diff := cmp.Diff([]string{"mgmt", "srv"}, names); diff != "" {
		t.Errorf("networks appended in file order (-want +got):\n%s", diff)
	}
	if len(c.Flows) != 2 || len(c.Protected) != 2 {
		t.Errorf("flows %d protected %d; want 2 and 2 (lists appended)", len(c.Flows), len(c.Protected))
	}
	if c.Site != "split" || c.Timezone != "America/New_York" {
		t.Errorf("site %q zone %q", c.Site, c.Timezone)
	}
	if got, want := c.Devices[0].SSH.KnownHosts, filepath.Join(dir, "kh"); got != want {
		t.Errorf("relative known_hosts = %q; want %q (relative to its file)", got, want)
	}
	if got := len(c.Files()); got != 4 {
		t.Errorf("Files() has %d entries; want 4", got)
	}
}

func TestBlockDurationForms(t *testing.T) {
	for _, tc := range []struct {
		doc         string
		block, quar time.Duration
	}{
		{"block_duration: 12h", 12 * time.Hour, 12 * time.Hour},
		{"block_duration: {block: 2d, quarantine: 30m}", 48 * time.Hour, 30 * time.Minute},
		{"block_duration: {quarantine: 1h}", 24 * time.Hour, time.Hour},
		{"max_prefix_len_v4: 28", 24 * time.Hour, 4 * time.Hour},
	} {
		c, err := policies.Parse("p.yaml", []byte("site: s\nremediation:\n  "+tc.doc+"\n"))
		if err != nil {
			t.Errorf("%s: %v", tc.doc, err)
			continue
		}
		bd := c.Remediation.BlockDuration
		if time.Duration(bd.Block) != tc.block || time.Duration(bd.Quarantine) != tc.quar {
			t.Errorf("%s: block %v quarantine %v; want %v %v", tc.doc, bd.Block, bd.Quarantine, tc.block, tc.quar)
		}
	}
}

func TestEmbeddedDefaultIsValid(t *testing.T) {
	c, err := policies.Embedded()
	if err != nil {
		t.Fatalf("Embedded(): %v", err)
	}
	if _, ok := c.DeviceBySource(mustAddr(t, "127.0.0.1")); !ok {
		t.Error("the embedded policy does not accept syslog from 127.0.0.1")
	}
	if c.Collector.UDPListen != ":5140" {
		t.Errorf("embedded udp_listen = %q", c.Collector.UDPListen)
	}
	// The bytes handed out are a copy.
	b := policies.EmbeddedYAML()
	b[0] = 'X'
	if policies.EmbeddedYAML()[0] == 'X' {
		t.Error("EmbeddedYAML returns the package's own slice")
	}
}

func TestExplicitZeroOverridesDefault(t *testing.T) {
	c, err := policies.Parse("p.yaml", []byte(`site: s
retention: {raw: 0}
detectors:
  volume: {enabled: false}
  printer_egress: {max_bytes_per_week: 0}
remediation: {max_prefix_len_v4: 32}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.Raw != 0 || c.Detectors.Volume.Enabled || c.Detectors.PrinterEgress.MaxBytesPerWeek != 0 {
		t.Errorf("explicit zeros lost: raw %v, volume enabled %v, printer max %v",
			c.Retention.Raw, c.Detectors.Volume.Enabled, c.Detectors.PrinterEgress.MaxBytesPerWeek)
	}
	// What the file leaves out keeps its default.
	if !c.Detectors.PortScan.Enabled || c.Detectors.Volume.Z != 6 || c.Remediation.MaxPrefixLenV4 != 32 {
		t.Errorf("defaults not kept: port_scan enabled %v, volume z %v, v4 %d",
			c.Detectors.PortScan.Enabled, c.Detectors.Volume.Z, c.Remediation.MaxPrefixLenV4)
	}
}
