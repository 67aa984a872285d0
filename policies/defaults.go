package policies

import (
	_ "embed"
	"time"
)

//go:embed default.yaml
var defaultYAML []byte

// EmbeddedYAML is the small site policy `serve` uses when given no --config: it accepts syslog
// from the local host only and describes RFC 1918 space as one workstation segment. The
// returned slice is a copy.
func EmbeddedYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Embedded loads EmbeddedYAML as a policy named "(embedded)". Relative paths in it (the data
// dir) stay relative to the working directory.
func Embedded() (*Config, error) {
	return parse([]source{{name: embeddedName, data: defaultYAML}})
}

const embeddedName = "(embedded)"

// Default returns a Config holding only the built-in defaults: no site, devices or networks,
// and no lookup tables (it is the base Load decodes over, not a usable policy).
//
// Defaults are applied once, before decoding: Load starts from Default() and each file
// overwrites only the values it sets. A list a file sets replaces the default list; lists set
// by several files of a folder are appended in file-name order.
func Default() *Config {
	det := func(sev string) Detector {
		return Detector{Enabled: true, Severity: sev, Suppress: Duration(24 * time.Hour)}
	}
	return &Config{
		Timezone: "UTC",
		Collector: Collector{
			UDPListen:      ":5140",
			TCPListen:      ":5140",
			DataDir:        "firebreak-data",
			FlushInterval:  Duration(time.Second),
			QueueSize:      65536,
			MaxMessageSize: 8 << 10,
			UDPReadBuffer:  64 << 20,
			TCPMaxConns:    64,
			TCPIdleTimeout: Duration(5 * time.Minute),
			// Limits against slow or greedy TCP senders (issue 13 #5).
			TCPMaxConnsPerSource: 8,
			TCPFrameTimeout:      Duration(30 * time.Second),
			HTTPListen:           "127.0.0.1:8080",
			MaxHostsPerHour:      20_000,
			MaxLateness:          Duration(2 * time.Hour),
		},
		Ports: map[string][]Port{
			"default": {
				{ProtoTCP, 22}, {ProtoTCP, 25}, {ProtoTCP, 53}, {ProtoUDP, 53}, {ProtoTCP, 80},
				{ProtoUDP, 123}, {ProtoTCP, 443}, {ProtoUDP, 443}, {ProtoTCP, 465}, {ProtoTCP, 587},
				{ProtoTCP, 993}, {ProtoTCP, 3389},
			},
		},
		Detectors: Detectors{
			SignificantTerms: SignificantTerms{Detector: det(SeverityLow), Heuristic: HeuristicJLH,
				MinDocCount: 5, Window: Duration(24 * time.Hour), Size: 10},
			Volume: Volume{Detector: det(SeverityMedium), Z: 6, Ratio: 3, MinExcessBytes: 200e6,
				Persistence: 2, MinHistoryDays: 3},
			UnusualPorts:     UnusualPorts{Detector: det(SeverityMedium), MinDenies: 10, Window: Duration(time.Hour)},
			PortScan:         PortScan{Detector: det(SeverityLow), DistinctPorts: 20, Window: Duration(5 * time.Minute)},
			NewVPNSource:     NewVPNSource{Detector: det(SeverityMedium), LearningDays: 7},
			SegmentViolation: SegmentViolation{Detector: det(SeverityHigh)},
			SANCrossing:      SANCrossing{Detector: det(SeverityHigh)},
			PrinterEgress:    PrinterEgress{Detector: det(SeverityHigh), MaxBytesPerWeek: 10e6, MaxBytesPerWeekByRole: map[string]ByteSize{}},
			SilentHost:       SilentHost{Detector: det(SeverityMedium), Hours: 24},
			DNSUnapproved:    DNSUnapproved{Detector: det(SeverityMedium)},
		},
		Schedules: Schedules{Detect: "@every 1h", Report: "0 7 * * *"},
		Retention: Retention{
			Hourly:   Duration(35 * 24 * time.Hour),
			Daily:    Duration(400 * 24 * time.Hour),
			Raw:      Duration(90 * 24 * time.Hour),
			Findings: Duration(400 * 24 * time.Hour),
		},
		Remediation: Remediation{
			BlockDuration:         BlockDurations{Block: Duration(24 * time.Hour), Quarantine: Duration(4 * time.Hour)},
			MaxPrefixLenV4:        24,
			MaxPrefixLenV6:        64,
			ShunDuration:          Duration(time.Hour),
			ExpireOnDevice:        true,
			MaxOpenProposals:      50,
			MaxNewProposalsPerDay: 100,
		},
		Report: Report{SMTP: SMTP{Port: 587, StartTLS: true}},
	}
}

// deviceDefaults fills what a device leaves unset; the site zone is applied later.
func deviceDefaults(d *Device) {
	if d.OutsideInterface == "" {
		d.OutsideInterface = "outside"
	}
	if d.OutsideACL == "" {
		d.OutsideACL = "outside_access_in"
	}
	if d.InsideInterface == "" {
		d.InsideInterface = "inside"
	}
	if d.InsideACL == "" {
		d.InsideACL = "inside_access_in"
	}
	if d.ObjectGroup == "" {
		d.ObjectGroup = DefaultObjectGroup
	}
	if d.SSH.Port == 0 {
		d.SSH.Port = 22
	}
	if d.SSH.Timeout == 0 {
		d.SSH.Timeout = Duration(30 * time.Second)
	}
	if d.SSH.Keepalive == 0 {
		d.SSH.Keepalive = Duration(15 * time.Second)
	}
	if d.SSH.KeepaliveMax == 0 {
		d.SSH.KeepaliveMax = 3
	}
}
