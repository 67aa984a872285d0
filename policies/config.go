package policies

import (
	"net/netip"
	"path/filepath"
	"time"
)

// Config is a whole site policy. Load returns it validated, with defaults applied and its lookup
// tables built; from then on it is read-only and safe for concurrent use by any number of
// goroutines. Code that builds a Config by hand must not call the query methods (they need the
// tables Load builds).
type Config struct {
	Site     string `yaml:"site"`     // short site name, used in reports and remarks
	Timezone string `yaml:"timezone"` // IANA zone; default for devices and schedules (default UTC)
	// Internal lists address ranges that are the site's own but belong to no network below
	// (e.g. RFC 1918 space not yet described); IsInternal is true for them.
	Internal    []netip.Prefix    `yaml:"internal"`
	Collector   Collector         `yaml:"collector"`
	Devices     []Device          `yaml:"devices"`
	Networks    []Network         `yaml:"networks"`
	Flows       []Flow            `yaml:"flows"`
	DNS         DNS               `yaml:"dns"`
	Ports       map[string][]Port `yaml:"ports"` // role (or "default") -> conventional ports
	Protected   []netip.Prefix    `yaml:"protected"`
	Detectors   Detectors         `yaml:"detectors"`
	Schedules   Schedules         `yaml:"schedules"`
	Retention   Retention         `yaml:"retention"`
	Remediation Remediation       `yaml:"remediation"`
	// People: the admins' group for the daemon's socket, and who may approve (people.go).
	People People `yaml:"people"`
	// Audit sends the audit entries to syslog receivers as well.
	Audit  Audit  `yaml:"audit"`
	Report Report `yaml:"report"`
	// Services are known external services (update CDNs, SaaS, the offsite backup): never
	// blocked, never counted as exfiltration (see context.go).
	Services []Service `yaml:"services"`
	VPN      VPN       `yaml:"vpn"`
	// Findings: suppression rules and alerts (see findings.go).
	Findings Findings `yaml:"findings"`
	// Outputs are Elasticsearch or OpenSearch clusters that receive the events (outputs.go).
	Outputs []Output `yaml:"outputs"`

	loc    *time.Location
	files  []string // the files the policy was read from, in merge order
	tables *tables
}

// Collector configures the daemon's inputs and its local endpoints.
type Collector struct {
	// UDPListen and TCPListen are host:port listen addresses; "off" disables one.
	UDPListen string `yaml:"udp_listen"` // default ":5140"
	TCPListen string `yaml:"tcp_listen"` // default ":5140"
	// DataDir holds the buntdb file, the raw archive, the lock file and the API socket. A relative
	// path in a policy file is taken relative to that file's folder.
	DataDir       string   `yaml:"data_dir"`       // default "firebreak-data"
	FlushInterval Duration `yaml:"flush_interval"` // statistics batch interval, default 1s
	QueueSize     int      `yaml:"queue_size"`     // frames buffered between listeners and parsers, default 65536
	Workers       int      `yaml:"workers"`        // parse workers; 0 means one per CPU
	// MaxMessageSize is the largest frame accepted; longer ones are dropped (not parsed, not
	// archived) and counted in firebreak_dropped_total{reason="oversize"}.
	MaxMessageSize ByteSize `yaml:"max_message_size"` // default 8KiB
	UDPReadBuffer  ByteSize `yaml:"udp_read_buffer"`  // SO_RCVBUF asked for, default 64MiB
	TCPMaxConns    int      `yaml:"tcp_max_conns"`    // default 64
	// TCPMaxConnsPerSource bounds one sender's share of TCPMaxConns, so one source (or one
	// compromised device) cannot hold every slot.
	TCPMaxConnsPerSource int      `yaml:"tcp_max_conns_per_source"` // default 8
	TCPIdleTimeout       Duration `yaml:"tcp_idle_timeout"`         // default 5m
	// TCPFrameTimeout is how long one frame may take to arrive once its first byte has: a
	// peer trickling a frame byte by byte is cut off then (the idle timeout alone restarts at
	// every byte).
	TCPFrameTimeout Duration `yaml:"tcp_frame_timeout"` // default 30s
	// HTTPListen serves /metrics and the dashboard; "off" disables it.
	HTTPListen string `yaml:"http_listen"` // default "127.0.0.1:8080"
	// HTTP secures that endpoint: TLS and a token or basic auth, required when http_listen is
	// not a loopback address.
	HTTP HTTPAccess `yaml:"http"`
	// MaxHostsPerHour is how many distinct internal hosts get counters of their own per hour;
	// further ones (a flood of forged lines naming hosts) count in the site totals only.
	MaxHostsPerHour int `yaml:"max_hosts_per_hour"` // default 20000
	// MaxLateness: a line the daemon receives dated more than this before its device's newest
	// time is late (back-dated, forged or a clock set back): counted, not aggregated. Default
	// 2h. Replays (ingest) keep every line.
	MaxLateness Duration `yaml:"max_lateness"`
	// APISocket is the daemon's local API; empty means <data_dir>/firebreak.sock (see APISocketPath).
	APISocket string `yaml:"api_socket"`
}

// Off is the listen address that disables a listener.
const Off = "off"

// APISocketPath is the socket the daemon serves and the commands dial.
func (c Collector) APISocketPath() string {
	if c.APISocket != "" {
		return c.APISocket
	}
	return filepath.Join(c.DataDir, "firebreak.sock")
}

// Device kinds.
const (
	KindASA = "asa"
	KindIOS = "ios"
)

// DefaultObjectGroup is the network object-group firebreak manages on an ASA.
const DefaultObjectGroup = "FIREBREAK_BLOCK"

// Device is a firewall or router that sends syslog and, with SSH settings, can be changed.
// Name, interface, ACL and object-group names match NamePattern, so they are safe to render
// into device commands.
type Device struct {
	Name          string       `yaml:"name"`
	Kind          string       `yaml:"kind"`           // KindASA or KindIOS
	SyslogSources []netip.Addr `yaml:"syslog_sources"` // addresses its syslog may come from
	Timezone      string       `yaml:"timezone"`       // zone of its yearless timestamps; default the site's
	SSH           SSH          `yaml:"ssh"`
	// Interface and ACL names on the device (ASA): where blocks and quarantines go.
	OutsideInterface string `yaml:"outside_interface"` // default "outside"
	OutsideACL       string `yaml:"outside_acl"`       // default "outside_access_in"
	InsideInterface  string `yaml:"inside_interface"`  // default "inside"
	InsideACL        string `yaml:"inside_acl"`        // default "inside_access_in"
	ObjectGroup      string `yaml:"object_group"`      // managed object-group, default FIREBREAK_BLOCK
	// Addresses are the device's own (interfaces, PAT, VPN headend): traffic to them is the
	// device's, not an internal host's, and they are never blocked.
	Addresses []netip.Addr `yaml:"addresses"`
	// OutsideSubnet is the outside interface's connected subnet (the ISP's gateway and
	// neighbours): never blocked.
	OutsideSubnet netip.Prefix `yaml:"outside_subnet"`

	loc *time.Location
}

// Location is the device's resolved time zone (never nil in a loaded Config).
func (d *Device) Location() *time.Location { return d.loc }

// Manageable says whether firebreak may open SSH sessions to the device.
func (d *Device) Manageable() bool { return d.SSH.Address.IsValid() }

// SSH says how to reach a device. Secrets are never in the file: passwords come from the
// environment variables named here, keys from KeyFile or the ssh-agent.
type SSH struct {
	Address           netip.Addr `yaml:"address"`             // unset: the device is not managed
	Port              int        `yaml:"port"`                // default 22
	KnownHosts        string     `yaml:"known_hosts"`         // required when Address is set
	User              string     `yaml:"user"`                // required when Address is set
	PasswordEnv       string     `yaml:"password_env"`        // env var holding the login password
	EnablePasswordEnv string     `yaml:"enable_password_env"` // env var holding the enable password
	KeyFile           string     `yaml:"key_file"`            // private key file
	Agent             bool       `yaml:"agent"`               // use $SSH_AUTH_SOCK
	LegacyAlgorithms  bool       `yaml:"legacy_algorithms"`   // allow old KEX/ciphers of ASA 8.x images
	Timeout           Duration   `yaml:"timeout"`             // per operation, default 30s
	// Keepalive is how often an SSH keepalive is sent (default 15s); after KeepaliveMax in a row
	// go unanswered (default 3) the session is closed and the push fails and rolls back.
	Keepalive    Duration `yaml:"keepalive"`
	KeepaliveMax int      `yaml:"keepalive_max"`
	// Hostname must equal the hostname in the device prompt (a moved address cannot redirect a
	// push); empty skips the check. Context is the security context of a multiple-context ASA.
	Hostname string `yaml:"hostname"`
	Context  string `yaml:"context"`
}

// Network roles.
const (
	RoleServers           = "servers"
	RoleTerminalServers   = "terminal-servers"
	RoleDMZ               = "dmz"
	RoleVMHosts           = "vm-hosts"
	RoleDomainControllers = "domain-controllers"
	RolePrintServers      = "print-servers"
	RolePrinters          = "printers"
	RoleSAN               = "san"
	RoleVPNPool           = "vpn-pool"
	RoleWorkstations      = "workstations"
	RoleManagement        = "management"
	RoleTestServers       = "test-servers"
)

// Roles is the fixed set of network roles, in the order Explain prints them.
var Roles = []string{
	RoleServers, RoleTerminalServers, RoleDMZ, RoleVMHosts, RoleDomainControllers,
	RolePrintServers, RolePrinters, RoleSAN, RoleVPNPool, RoleWorkstations, RoleManagement,
	RoleTestServers,
}

// Internet is the pseudo-segment for every address outside the site, usable in flows.
const Internet = "internet"

// Any is the flow wildcard for "every segment"; it may stand on one side of a flow only.
const Any = "any"

// Network is one segment of the site: a name, a role and its prefixes.
type Network struct {
	Name        string         `yaml:"name"`
	Role        string         `yaml:"role"`
	Building    string         `yaml:"building"` // workstations only
	Description string         `yaml:"description"`
	Prefixes    []netip.Prefix `yaml:"prefixes"`
	Hosts       []Host         `yaml:"hosts"`
	// ExpectedSilentHours > 0 says every host seen in this network must keep talking: one
	// silent for longer is a silent-host finding.
	ExpectedSilentHours int `yaml:"expected_silent_hours"`
	// Gateway is the router that reaches this network without the ASA (e.g. the 2921 in
	// front of a SAN). Only with it may remediation change the ASA's route to the network.
	Gateway netip.Addr `yaml:"gateway"`
}

// Host is a named host inside a network. A named host is watched by the silent-host detector:
// with its own ExpectedSilentHours, or else the network's, or else detectors.silent_host.hours.
type Host struct {
	Name                string     `yaml:"name"`
	Address             netip.Addr `yaml:"address"`
	ExpectedSilentHours int        `yaml:"expected_silent_hours"`
}

// Flow allows traffic from one segment to another (network names, Internet, or Any on one
// side). No ports means every port.
type Flow struct {
	From        string `yaml:"from"`
	To          string `yaml:"to"`
	Ports       []Port `yaml:"ports"`
	Description string `yaml:"description"`
}

// DNS lists the resolvers hosts may use.
type DNS struct {
	ApprovedResolvers []netip.Addr `yaml:"approved_resolvers"`
}

// Severities, lowest first.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Detector holds what every detector has.
type Detector struct {
	Enabled  bool     `yaml:"enabled"`
	Severity string   `yaml:"severity"` // low, medium, high or critical
	Suppress Duration `yaml:"suppress"` // the same finding is not raised again within this window
}

// Significant-terms heuristics.
const (
	HeuristicJLH               = "jlh"
	HeuristicMutualInformation = "mutual_information"
	HeuristicChiSquare         = "chi_square"
	HeuristicGND               = "gnd"
	HeuristicPercentage        = "percentage"
)

// Detectors holds every detector's settings.
type Detectors struct {
	SignificantTerms SignificantTerms `yaml:"significant_terms"`
	Volume           Volume           `yaml:"volume"`
	UnusualPorts     UnusualPorts     `yaml:"unusual_ports"`
	PortScan         PortScan         `yaml:"port_scan"`
	NewVPNSource     NewVPNSource     `yaml:"new_vpn_source"`
	SegmentViolation SegmentViolation `yaml:"segment_violation"`
	SANCrossing      SANCrossing      `yaml:"san_crossing"`
	PrinterEgress    PrinterEgress    `yaml:"printer_egress"`
	SilentHost       SilentHost       `yaml:"silent_host"`
	DNSUnapproved    DNSUnapproved    `yaml:"dns_unapproved"`
}

// SignificantTerms scores terms of the foreground window against the retained background.
type SignificantTerms struct {
	Detector    `yaml:",inline"`
	Heuristic   string   `yaml:"heuristic"`     // jlh (default), mutual_information, chi_square, gnd, percentage
	MinDocCount int      `yaml:"min_doc_count"` // default 5
	Window      Duration `yaml:"window"`        // foreground, default 24h
	Size        int      `yaml:"size"`          // terms reported per field, default 10
}

// Volume compares each hour with the host's hour-of-week baseline (median and MAD).
type Volume struct {
	Detector       `yaml:",inline"`
	Z              float64  `yaml:"z"`                // robust z-score, default 6
	Ratio          float64  `yaml:"ratio"`            // observed / median, default 3
	MinExcessBytes ByteSize `yaml:"min_excess_bytes"` // observed - median, default 200MB
	Persistence    int      `yaml:"persistence"`      // candidate hours out of the last 3 to escalate, default 2
	MinHistoryDays int      `yaml:"min_history_days"` // below this no baseline is trusted, default 3
}

// UnusualPorts flags traffic with external addresses on ports not conventional for the role.
type UnusualPorts struct {
	Detector  `yaml:",inline"`
	MinDenies int      `yaml:"min_denies"` // denies of one external source, default 10
	Window    Duration `yaml:"window"`     // default 1h
}

// PortScan flags an external source touching many distinct ports.
type PortScan struct {
	Detector      `yaml:",inline"`
	DistinctPorts int      `yaml:"distinct_ports"` // default 20
	Window        Duration `yaml:"window"`         // default 5m
}

// NewVPNSource flags a VPN login from a source address never seen for that user.
type NewVPNSource struct {
	Detector     `yaml:",inline"`
	LearningDays int `yaml:"learning_days"` // no findings before this much history, default 7
}

// SegmentViolation flags flows between segments that no flow rule allows.
type SegmentViolation struct {
	Detector `yaml:",inline"`
	// ICMP is "diagnostics" (default: ICMP between internal segments is diagnostics, not a
	// violation) or "strict" (judged by the flows like any port).
	ICMP string `yaml:"icmp"`
}

// SANCrossing flags SAN traffic seen crossing the ASA.
type SANCrossing struct {
	Detector `yaml:",inline"`
}

// PrinterEgress flags printers and print servers sending to external addresses.
type PrinterEgress struct {
	Detector        `yaml:",inline"`
	MaxBytesPerWeek ByteSize `yaml:"max_bytes_per_week"` // default 10MB; 0 flags any byte
	// MaxBytesPerWeekByRole overrides the limit per role (printers, print-servers): a print
	// server's vendor agent sends far less than a managed printer may.
	MaxBytesPerWeekByRole map[string]ByteSize `yaml:"max_bytes_per_week_by_role"`
}

// SilentHost flags an expected host with no traffic.
type SilentHost struct {
	Detector `yaml:",inline"`
	Hours    int `yaml:"hours"` // default threshold for named hosts, default 24
}

// DNSUnapproved flags DNS to resolvers not in dns.approved_resolvers.
type DNSUnapproved struct {
	Detector `yaml:",inline"`
}

// Schedules are cron specs (5 fields or a @descriptor, as robfig/cron/v3's standard parser
// reads them) run in Timezone. A spec must not carry its own TZ= or CRON_TZ= prefix.
type Schedules struct {
	Timezone string `yaml:"timezone"` // default the site's zone
	Detect   string `yaml:"detect"`   // default "@every 1h"
	Report   string `yaml:"report"`   // default "0 7 * * *"
	// Bulk are scheduled bulk transfers (backups, patch days): volume in their windows to
	// their services is expected.
	Bulk []Bulk `yaml:"bulk"`

	loc *time.Location
}

// Location is the resolved zone of the schedules (never nil in a loaded Config).
func (s *Schedules) Location() *time.Location { return s.loc }

// Retention is how long each kind of data is kept.
type Retention struct {
	Hourly   Duration `yaml:"hourly"`   // hourly buckets, default 35d
	Daily    Duration `yaml:"daily"`    // daily buckets, default 400d
	Raw      Duration `yaml:"raw"`      // raw gzip archive, default 90d
	Findings Duration `yaml:"findings"` // closed findings, default 400d
}

// Remediation configures proposals and pushes.
type Remediation struct {
	// BlockDuration is how long a block lasts, per proposal kind (block, quarantine).
	BlockDuration      BlockDurations `yaml:"block_duration"`
	MaxPrefixLenV4     int            `yaml:"max_prefix_len_v4"` // never block an IPv4 prefix shorter (broader) than this, default 24
	MaxPrefixLenV6     int            `yaml:"max_prefix_len_v6"` // the same for IPv6, default 64
	AutoRemoveOnExpiry bool           `yaml:"auto_remove_on_expiry"`
	// ExpireOnDevice (default true) gives the denies of a block or quarantine with a
	// duration a `time-range` with an `absolute end`, so the ASA stops enforcing them at
	// the end by its own clock (keep it right with NTP) even when firebreak is down.
	ExpireOnDevice bool `yaml:"expire_on_device"`
	// AllowUnsavedChanges pushes (and saves) even when the device's running configuration
	// already differs from its startup one; by default such a push is refused.
	AllowUnsavedChanges bool     `yaml:"allow_unsaved_changes"`
	PushOnApprove       bool     `yaml:"push_on_approve"`
	UseShun             bool     `yaml:"use_shun"`      // also shun blocked sources for ShunDuration
	ShunDuration        Duration `yaml:"shun_duration"` // default 1h
	// QuarantineRoles are the server roles whose hosts may be quarantined; workstations and
	// printers may always be, every other role only when listed here.
	QuarantineRoles []string `yaml:"quarantine_roles"`
	// MaxOpenProposals caps the proposals of one kind waiting for a person (proposed,
	// approved or failed) and MaxNewProposalsPerDay those of one kind made in 24 hours. Syslog
	// is forged easily and people review only so many: further findings are not proposed, and
	// a proposal_budget finding says how many were left out. Defaults 50 and 100.
	MaxOpenProposals      int `yaml:"max_open_proposals"`
	MaxNewProposalsPerDay int `yaml:"max_new_proposals_per_day"`
}

// BlockDurations is the lifetime of a change per proposal kind; 0 means until removed by hand.
// In YAML it is a mapping or one duration for every kind (block_duration: 24h).
type BlockDurations struct {
	Block      Duration `yaml:"block"`      // external address blocked on the outside ACL, default 24h
	Quarantine Duration `yaml:"quarantine"` // internal host denied on the inside ACL, default 4h
}

// Report configures the daily report.
type Report struct {
	OutDir string `yaml:"out_dir"` // default <data_dir>/reports; relative to the policy file's folder
	SMTP   SMTP   `yaml:"smtp"`
}

// SMTP is where the report is mailed; an empty Host means no mail.
type SMTP struct {
	Host        string   `yaml:"host"`
	Port        int      `yaml:"port"` // default 587
	From        string   `yaml:"from"`
	To          []string `yaml:"to"`
	User        string   `yaml:"user"`
	PasswordEnv string   `yaml:"password_env"`
	StartTLS    bool     `yaml:"starttls"` // default true
}

// Location is the site's resolved time zone (never nil in a loaded Config).
func (c *Config) Location() *time.Location { return c.loc }

// Files lists the policy files the Config was read from, in merge order.
func (c *Config) Files() []string { return append([]string(nil), c.files...) }

func (b *BlockDurations) parseScalar(s string) error {
	var d Duration
	if err := d.UnmarshalText([]byte(s)); err != nil {
		return err
	}
	*b = BlockDurations{Block: d, Quarantine: d}
	return nil
}
