package policies_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
)

func TestDurationText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"90s", 90 * time.Second, "1m30s"},
		{"24h", 24 * time.Hour, "24h"},
		{"35d", 35 * 24 * time.Hour, "35d"},
		{"1w", 7 * 24 * time.Hour, "7d"},
		{"1d12h", 36 * time.Hour, "36h"},
		{"2w3d", 17 * 24 * time.Hour, "17d"},
		{"1.5h", 90 * time.Minute, "1h30m"},
		{"0", 0, "0s"},
	} {
		var d policies.Duration
		if err := d.UnmarshalText([]byte(tc.in)); err != nil {
			t.Errorf("Duration(%q): %v", tc.in, err)
			continue
		}
		if time.Duration(d) != tc.want || d.String() != tc.out {
			t.Errorf("Duration(%q) = %v (%q); want %v (%q)", tc.in, time.Duration(d), d, tc.want, tc.out)
		}
	}
	for _, bad := range []string{"", "5", "-1h", "d", "3x", "1d-2h", "1dd", "99999999999999999999d", "200000w"} {
		var d policies.Duration
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("Duration(%q) = %v; want an error", bad, time.Duration(d))
		}
	}
}

func TestByteSizeText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		out  string
	}{
		{"200MB", 200e6, "200MB"},
		{"1000", 1000, "1KB"},
		{"8KiB", 8192, "8KiB"},
		{"1.5GiB", 1.5 * (1 << 30), "1536MiB"},
		{"10 mb", 10e6, "10MB"},
		{"7b", 7, "7B"},
		{"0", 0, "0B"},
	} {
		var z policies.ByteSize
		if err := z.UnmarshalText([]byte(tc.in)); err != nil {
			t.Errorf("ByteSize(%q): %v", tc.in, err)
			continue
		}
		if int64(z) != tc.want || z.String() != tc.out {
			t.Errorf("ByteSize(%q) = %d (%q); want %d (%q)", tc.in, int64(z), z, tc.want, tc.out)
		}
	}
	for _, bad := range []string{"", "MB", "-5MB", "1e3", "0x10", "NaN", "inf", "10 parsecs", "99999999TB"} {
		var z policies.ByteSize
		if err := z.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("ByteSize(%q) = %d; want an error", bad, int64(z))
		}
	}
}

func TestParsePort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want policies.Port
	}{
		{"tcp/443", tcp(443)},
		{"UDP/53", udp(53)},
		{"tcp/65535", tcp(65535)},
		{"icmp", policies.Port{Proto: policies.ProtoICMP}},
	} {
		got, err := policies.ParsePort(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParsePort(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, _ := policies.ParsePort(got.String()); back != got {
			t.Errorf("ParsePort(%q.String()) = %v; want %v", got, back, got)
		}
	}
	for _, bad := range []string{"", "443", "tcp/", "tcp/0", "tcp/65536", "sctp/9", "tcp/-1", "tcp/44 3", "icmp/8"} {
		if p, err := policies.ParsePort(bad); err == nil {
			t.Errorf("ParsePort(%q) = %v; want an error", bad, p)
		}
	}
}

func TestParseScheduleNeverPanics(t *testing.T) {
	// robfig/cron/v3 panics on these (slice bounds); ParseSchedule must refuse them calmly.
	for _, spec := range []string{"TZ=0", "TZ=UTC", "CRON_TZ=UTC", "CRON_TZ=America/Chicago 0 7 * * *", " TZ=UTC"} {
		if _, err := policies.ParseSchedule(spec); err == nil || !strings.Contains(err.Error(), "schedules.timezone") {
			t.Errorf("ParseSchedule(%q) = %v; want the time-zone error", spec, err)
		}
	}
	for _, spec := range []string{"", "* * *", "61 * * * *", "@every", "@every -1h", "@sometimes", "0 7 * * 8"} {
		if _, err := policies.ParseSchedule(spec); err == nil {
			t.Errorf("ParseSchedule(%q) succeeded; want an error", spec)
		}
	}
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	s, err := policies.ParseSchedule("0 7 * * 1-5")
	if err != nil {
		t.Fatal(err)
	}
	// Friday 2026-11-27 12:00 UTC is 06:00 in Chicago: the next run is 07:00 that day.
	got := s.Next(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).In(chicago))
	if want := time.Date(2026, 11, 27, 7, 0, 0, 0, chicago); !got.Equal(want) {
		t.Errorf("Next = %v; want %v", got, want)
	}
}

func TestExplainSchedulesInTheirZone(t *testing.T) {
	c := example(t)
	// Sunday 2026-03-08 is the spring-forward day in Chicago.
	out := policies.Explain(c, time.Date(2026, 3, 6, 14, 0, 0, 0, time.UTC))
	for _, want := range []string{
		`Policy "clinic", time zone America/Chicago`,
		"report  0 7 * * 1-5  next 2026-03-09 07:00 CDT, then 2026-03-10 07:00 CDT",
		"detect  @every 1h    next 2026-03-06 09:00 CST",
		"domain-controllers  dcs          10.1.10.10, 10.1.10.11      silent after 1h (inside servers)",
		"vpn -> termsrv           tcp/3389",
		"volume             on  medium    suppress 24h  z >= 6, ratio >= 3, excess >= 200MB",
		"Protected (never blocked)  10.1.10.5, 10.1.10.12, 203.0.113.10, 198.51.100.0/28",
		"ssh firebreak@10.10.0.1:22 (password from $FIREBREAK_ASA_PASSWORD",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Explain lacks %q; got:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter") || strings.Contains(out, " \n") {
		t.Errorf("Explain has trailing blanks or secrets:\n%s", out)
	}
}

func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"*.yaml", "good/*.yaml", "good/*/*.yaml", "bad/*.yaml", "bad/*/*.yaml"} {
		files, _ := filepath.Glob(filepath.Join(fixtures, pattern))
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("site: &a [*a]\n"))
	f.Add([]byte("site: x\nschedules: {detect: 'TZ=0'}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := policies.Parse("fuzz.yaml", data)
		if err != nil {
			var list policies.Errors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not a non-empty Errors: %v", err, err)
			}
			if c != nil {
				t.Fatal("a Config came back with an error")
			}
			return
		}
		// A policy that loads must answer queries and explain itself.
		a := mustAddr(t, "10.1.2.3")
		c.Classify(a)
		c.IsProtected(a)
		c.FlowAllowed("a", "b", tcp(1))
		_ = policies.Explain(c, time.Unix(0, 0))
	})
}
