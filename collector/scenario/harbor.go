package scenario

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Site profiles: Config.Profile.
const (
	ProfileClinic = "clinic" // the default: the three-building clinic of Site
	ProfileHarbor = "harbor" // a second, unlike site with decoys of every class (see harborDoc)
)

// Profiles lists the profiles Generate knows.
var Profiles = []string{ProfileClinic, ProfileHarbor}

// DefaultHarborDays is the length of a harbor run when Config.Days is zero.
const DefaultHarborDays = 24

// harborStart is the first day of a harbor run when Config.Start is zero: a Monday in Berlin
// summer time, so 24 days cross no daylight-saving change.
var harborStart = time.Date(2026, time.September, 7, 0, 0, 0, 0, time.UTC)

// Decoy classes: things a real site has that look like incidents and are not.
const (
	DecoyServiceFanIn    = "service_fan_in"         // CDN, OS-update and SaaS peers many hosts use every day
	DecoyPatchDay        = "patch_day"              // every workstation pulls updates at once
	DecoyOffsiteBackup   = "offsite_backup"         // weekly backup to an approved offsite peer
	DecoyQUICDenied      = "quic_denied"            // browsers' udp/443 denied by the inside ACL
	DecoyBackgroundScan  = "background_scanning"    // internet noise denied at the outside address
	DecoyRejectedVPN     = "rejected_vpn_logins"    // password spraying against the headend
	DecoyRouterReplies   = "router_reply_packets"   // IOS logs of replies from service ports
	DecoyRouterPermitted = "router_permit_asa_deny" // a router's catch-all permits what the ASA denies
	DecoyMgmtPollSAN     = "management_polls_san"   // allowed polling of the SAN's management address
	DecoyPings           = "diagnostic_pings"       // a few pings between segments
	DecoyCGNATRoaming    = "cgnat_roaming_vpn"      // a VPN user on a mobile carrier, new address every session
	DecoyNewHire         = "new_hire_first_login"   // first-ever VPN login of a new user
	DecoyPrinterCallHome = "printer_call_home"      // printers' vendor call-home that the policy allows
	DecoyHeadend         = "anyconnect_headend"     // VPN clients' traffic to the ASA itself
	DecoyFailedSYNs      = "failed_syns_to_dead_host"
)

// Decoy is one planted non-incident: a finding about its addresses (or user) in its time is
// a false positive, and no block or quarantine may target them.
type Decoy struct {
	ID          string       `json:"id"`
	Class       string       `json:"class"`
	Start       time.Time    `json:"start"`
	End         time.Time    `json:"end"`
	Hosts       []netip.Addr `json:"hosts,omitempty"`
	Peers       []netip.Addr `json:"peers,omitempty"`
	Ports       []string     `json:"ports,omitempty"`
	User        string       `json:"user,omitempty"`
	Description string       `json:"description"`
}

// harbor address plan (fixed sizes; the clinic's Site does not apply):
//
//	172.20.10.10-11   domain controllers        172.20.10.20-34  servers (files, EHR, apps)
//	172.20.10.40      backup server             172.20.10.50     print server
//	172.20.11.1-6     VM hosts esx01..esx06     172.20.50.10-11  SAN arrays, .100-.101 their management
//	172.20.30.10-21   printers                  172.20.100.0/24  floor-1 workstations (60)
//	172.20.110.0/24   floor-2 workstations (48) behind gw-north (IOS, logs FLOOR2-IN)
//	172.20.99.0/24    AnyConnect pool           172.20.250.0/24  management: fw-hq .1, gw-north .2,
//	                                                             IT staff .20-.23, monitoring .30
//	185.90.12.2       fw-hq's outside address (PAT, AnyConnect headend) in 185.90.12.0/28
type harbor struct {
	cfg   Config
	loc   *time.Location
	rng   *rand.Rand
	frng  *rand.Rand
	start time.Time
	end   time.Time
	out   [2]*bufio.Writer
	day   []hline
	conn  uint32
	seq   uint32
	truth Truth
	lines [2]int64

	dcs, servers, vmhosts, printers, ws1, ws2, staff []netip.Addr
	web, scanners, homes                             []netip.Addr
	backup, printSrv, poller, outsideAddr, gw        netip.Addr
	sanArrays, sanMgmt                               []netip.Addr
	cdn, m365, ehr, vmware, vendorCallHome, google   []netip.Addr
	offsite, vendorMon, resolvers                    []netip.Addr
	users                                            []huser
	sessions                                         []int // VPN sessions so far per user
	dayOut                                           []uint64

	// incidents
	exfilDay, sanDay, dnsDay, deadDay, vpnDay, portDay, scanDay, segDay, patchDay, hireDay, syncDay int
	exfilHost, exfilPeer, sanClient, dnsHost, deadHost, portHost, portPeer, scanner                 netip.Addr
	segA, segB, vpnNewSrc, syncHost                                                                 netip.Addr
	deadFrom                                                                                        int64
	inc                                                                                             map[string]int
}

type huser struct {
	name    string
	homes   []netip.Addr
	carrier bool // roams on the mobile carrier's CGNAT: a new address every session
	pool    netip.Addr
	first   int // first day of logins (new hire)
}

// hline is one line of the current day before its envelope.
type hline struct {
	t    int64 // unix ms
	dev  uint8 // 0 fw-hq, 1 gw-north
	body string
	inc  int // incident index+1
}

const (
	hASA = 0
	hRtr = 1
)

// harborCarrier is the mobile carrier's CGNAT range the roaming user appears from.
var harborCarrier = netip.MustParsePrefix("80.187.0.0/16")

func a4(a, b, c, d int) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a), byte(b), byte(c), byte(d)})
}

const harborZone = "Europe/Berlin"

func newHarbor(cfg Config, w Writers) (*harbor, error) {
	loc, err := time.LoadLocation(harborZone)
	if err != nil {
		return nil, fmt.Errorf("harbor zone: %w", err)
	}
	if cfg.Days == 0 {
		cfg.Days = DefaultHarborDays
	}
	if cfg.Start.IsZero() {
		cfg.Start = harborStart
	}
	if cfg.LinesPerDay == 0 {
		cfg.LinesPerDay = DefaultLinesPerDay
	}
	if cfg.Days < 1 || cfg.Days > 3660 {
		return nil, fmt.Errorf("days = %d, want 1..3660: %w", cfg.Days, ErrInvalidConfig)
	}
	if cfg.LinesPerDay < 0 || cfg.LinesPerDay > MaxLinesPerDay {
		return nil, fmt.Errorf("lines per day = %d: %w", cfg.LinesPerDay, ErrInvalidConfig)
	}
	y, m, d := cfg.Start.Date()
	h := &harbor{
		cfg: cfg, loc: loc,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x4a7b0)),
		frng:  rand.New(rand.NewPCG(cfg.Seed, 0xe2e10)),
		start: time.Date(y, m, d, 0, 0, 0, 0, loc),
		inc:   map[string]int{},
		conn:  uint32(2_000_000 + cfg.Seed%100_000),
	}
	h.end = time.Date(y, m, d+cfg.Days, 0, 0, 0, 0, loc)
	switch {
	case w.All == nil && w.ASA != nil && w.Routers != nil:
		h.out = [2]*bufio.Writer{bufio.NewWriterSize(w.ASA, 256<<10), bufio.NewWriterSize(w.Routers, 64<<10)}
	case w.All != nil && w.ASA == nil && w.Routers == nil:
		all := bufio.NewWriterSize(w.All, 256<<10)
		h.out = [2]*bufio.Writer{all, all}
	default:
		return nil, fmt.Errorf("writers: set ASA and Routers, or All alone: %w", ErrInvalidConfig)
	}
	h.dayOut = make([]uint64, cfg.Days)
	h.layout()
	h.sessions = make([]int, len(h.users))
	h.plan()
	return h, nil
}

func (h *harbor) layout() {
	for i := range 2 {
		h.dcs = append(h.dcs, a4(172, 20, 10, 10+i))
	}
	for i := range 15 {
		h.servers = append(h.servers, a4(172, 20, 10, 20+i))
	}
	h.backup, h.printSrv = a4(172, 20, 10, 40), a4(172, 20, 10, 50)
	for i := range 6 {
		h.vmhosts = append(h.vmhosts, a4(172, 20, 11, 1+i))
	}
	h.sanArrays = []netip.Addr{a4(172, 20, 50, 10), a4(172, 20, 50, 11)}
	h.sanMgmt = []netip.Addr{a4(172, 20, 50, 100), a4(172, 20, 50, 101)}
	for i := range 12 {
		h.printers = append(h.printers, a4(172, 20, 30, 10+i))
	}
	for i := range 60 {
		h.ws1 = append(h.ws1, a4(172, 20, 100, 20+i))
	}
	for i := range 48 {
		h.ws2 = append(h.ws2, a4(172, 20, 110, 20+i))
	}
	for i := range 4 {
		h.staff = append(h.staff, a4(172, 20, 250, 20+i))
	}
	h.poller, h.outsideAddr, h.gw = a4(172, 20, 250, 30), a4(185, 90, 12, 2), a4(172, 20, 250, 2)
	for i := range 16 {
		h.cdn = append(h.cdn, a4(23, 50, 120, 10+i)) // OS updates (Akamai-like)
	}
	for i := range 12 {
		h.m365 = append(h.m365, a4(52, 97, 140+i%4, 20+i)) // SaaS mail and files
	}
	for i := range 4 {
		h.ehr = append(h.ehr, a4(91, 198, 40, 10+i)) // the EHR vendor's cloud
		h.vmware = append(h.vmware, a4(104, 18, 60, 10+i))
		h.vendorCallHome = append(h.vendorCallHome, a4(62, 116, 130, 10+i))
		h.google = append(h.google, a4(142, 250, 185, 10+i*7))
	}
	h.offsite = []netip.Addr{a4(88, 99, 10, 20)}
	h.vendorMon = []netip.Addr{a4(62, 116, 131, 40)} // the print server agent's monitoring host
	h.resolvers = []netip.Addr{a4(9, 9, 9, 9), a4(149, 112, 112, 112)}
	// Web sites: spread over many networks, deterministic.
	r := rand.New(rand.NewPCG(99, 1))
	for range 400 {
		h.web = append(h.web, a4(31+r.IntN(64), r.IntN(256), r.IntN(256), 1+r.IntN(254)))
	}
	for range 160 {
		h.scanners = append(h.scanners, a4(160+r.IntN(60), r.IntN(256), r.IntN(256), 1+r.IntN(254)))
	}
	names := []string{"lena.fischer", "jonas.weber", "mia.schulz", "paul.wagner", "emma.becker",
		"leon.hoffmann", "hanna.koch", "felix.richter", "lea.klein", "noah.wolf", "sofia.neumann",
		"elias.schwarz", "marie.zimmer", "ben.krause", "clara.hartmann", "luis.lange", "ida.werner",
		"tim.schmitt", "nora.krüger", "max.meier", "new.hire"}
	for i, n := range names {
		u := huser{name: n, pool: a4(172, 20, 99, 10+i)}
		u.homes = []netip.Addr{a4(84, 150+i, 20+i*3, 10+i)}
		if i%4 == 1 {
			u.homes = append(u.homes, a4(91, 40+i, 7, 100+i))
		}
		u.carrier = i == 0
		h.users = append(h.users, u)
	}
}

func (h *harbor) dayOf(frac float64) int {
	d := int(frac * float64(h.cfg.Days))
	d = max(1, min(d, h.cfg.Days-1))
	for i := 0; i < 3 && h.weekend(d); i++ {
		if d+1 < h.cfg.Days {
			d++
		} else if d > 0 {
			d--
		}
	}
	return d
}

func (h *harbor) weekend(day int) bool {
	wd := h.start.AddDate(0, 0, day).Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

func (h *harbor) at(day, hh, mm int) time.Time {
	y, mo, d := h.start.Date()
	return time.Date(y, mo, d+day, hh, mm, 0, 0, h.loc)
}

func (h *harbor) incident(in Incident) {
	h.truth.Incidents = append(h.truth.Incidents, in)
	h.inc[in.ID] = len(h.truth.Incidents)
}

func (h *harbor) decoy(d Decoy) { h.truth.Decoys = append(h.truth.Decoys, d) }

func (h *harbor) plan() {
	h.truth = Truth{Profile: ProfileHarbor, Seed: h.cfg.Seed, Days: h.cfg.Days, Start: h.start, End: h.end,
		Timezone: h.loc.String(), LinesPerDay: h.cfg.LinesPerDay}
	sel := func(s []netip.Addr, salt uint64) netip.Addr { return s[(h.cfg.Seed*7+salt)%uint64(len(s))] }
	h.exfilDay, h.sanDay, h.dnsDay = h.dayOf(0.70), h.dayOf(0.42), h.dayOf(0.5)
	h.deadDay, h.vpnDay, h.portDay = h.dayOf(0.58), h.dayOf(0.66), h.dayOf(0.62)
	h.scanDay, h.segDay, h.hireDay, h.syncDay = h.dayOf(0.78), h.dayOf(0.54), h.dayOf(0.6), h.dayOf(0.46)
	// Patch day: the second Tuesday of the month in the run, else a Tuesday after a week.
	h.patchDay = -1
	for d := 7; d < h.cfg.Days; d++ {
		t := h.start.AddDate(0, 0, d)
		if t.Weekday() == time.Tuesday && (t.Day()-1)/7 == 1 {
			h.patchDay = d
			break
		}
	}
	if h.patchDay < 0 {
		for d := 7; d < h.cfg.Days; d++ {
			if h.start.AddDate(0, 0, d).Weekday() == time.Tuesday {
				h.patchDay = d
				break
			}
		}
	}
	h.exfilHost, h.exfilPeer = sel(h.ws1, 3), a4(5, 181, 20, 77)
	h.sanClient = h.servers[5]
	h.dnsHost = h.dcs[1]
	h.deadHost = h.vmhosts[3]
	h.deadFrom = h.at(h.deadDay, 3, 10).UnixMilli()
	h.portHost, h.portPeer = sel(h.ws1, 11), a4(194, 26, 29, 113)
	h.scanner = a4(45, 155, 205, 99)
	h.segA, h.segB = sel(h.ws2, 5), sel(h.ws1, 17)
	h.vpnNewSrc = a4(103, 77, 12, 9)
	h.syncHost = sel(h.ws1, 29)
	if h.syncHost == h.exfilHost || h.syncHost == h.portHost {
		h.syncHost = h.ws1[0]
	}
	hire := &h.users[len(h.users)-1]
	hire.first = h.hireDay

	h.incident(Incident{ID: "exfil-1", Kind: KindExfiltration, Detector: "volume_spike", Also: []string{"significant_terms"},
		Start: h.at(h.exfilDay, 14, 0), End: h.at(h.exfilDay, 15, 40), Hosts: []netip.Addr{h.exfilHost},
		Peers: []netip.Addr{h.exfilPeer}, Ports: []string{"tcp/443"},
		Description: "a floor-1 workstation uploads several GB to an address no host ever used"})
	h.incident(Incident{ID: "printer-1", Kind: KindPrinterEgress, Detector: "printer_egress",
		Start: h.start, End: h.end, Hosts: []netip.Addr{h.printSrv}, Peers: h.vendorMon, Ports: []string{"tcp/443"},
		Description: "the print server's vendor agent sends a slow trickle (about 25 KB a day) to the vendor's monitoring host; the policy allows the print server no internet"})
	h.incident(Incident{ID: "silent-1", Kind: KindSilentHost, Detector: "silent_host",
		Start: time.UnixMilli(h.deadFrom).In(h.loc), End: h.end, Hosts: []netip.Addr{h.deadHost},
		Description: "a VM host dies; the monitoring server's attempts to reach it keep failing (0-byte SYN timeouts)"})
	h.incident(Incident{ID: "san-1", Kind: KindSANThroughFW, Detector: "san_crossing", Also: []string{"segment_violation", "volume_spike"},
		Start: h.at(h.sanDay, 0, 30), End: h.end, Hosts: []netip.Addr{h.sanClient}, Peers: h.sanArrays[:1], Ports: []string{"tcp/2049"},
		Description: "an application server mounts NFS from the SAN array through the ASA every night"})
	h.incident(Incident{ID: "dns-1", Kind: KindDNSUnapproved, Detector: "dns_unapproved", Also: []string{"significant_terms"},
		Start: h.at(h.dnsDay, 0, 0), End: h.end, Hosts: []netip.Addr{h.dnsHost}, Peers: []netip.Addr{a4(8, 8, 8, 8)}, Ports: []string{"udp/53"},
		Description: "the second domain controller forwards DNS to a resolver the policy does not approve"})
	vu := h.users[2]
	h.incident(Incident{ID: "vpn-1", Kind: KindNewVPNSource, Detector: "new_vpn_source", Also: []string{"significant_terms"},
		Start: h.at(h.vpnDay, 21, 5), End: h.at(h.vpnDay, 21, 5), Hosts: []netip.Addr{vu.pool}, Peers: []netip.Addr{h.vpnNewSrc}, User: vu.name,
		Description: "a long-standing VPN user logs in from an address abroad never seen for them"})
	h.incident(Incident{ID: "ports-1", Kind: KindUnusualPortOut, Detector: "unusual_ports", Also: []string{"significant_terms"},
		Start: h.at(h.portDay, 9, 40), End: h.at(h.portDay, 16, 0), Hosts: []netip.Addr{h.portHost}, Peers: []netip.Addr{h.portPeer}, Ports: []string{"tcp/1604"},
		Description: "a workstation keeps a remote-access trojan's channel open on tcp/1604"})
	h.incident(Incident{ID: "scan-1", Kind: KindPortScan, Detector: "port_scan", Also: []string{"unusual_ports", "significant_terms"},
		Start: h.at(h.scanDay, 2, 20), End: h.at(h.scanDay, 2, 26), Hosts: []netip.Addr{h.outsideAddr}, Peers: []netip.Addr{h.scanner},
		Description: "one address probes 300 ports of the outside address within minutes"})
	h.incident(Incident{ID: "segment-1", Kind: KindSegmentViolation, Detector: "segment_violation",
		Start: h.at(h.segDay, 11, 0), End: h.at(h.segDay, 12, 30), Hosts: []netip.Addr{h.segA, h.segB}, Ports: []string{"tcp/445", "tcp/3389"},
		Description: "a floor-2 workstation opens SMB and RDP sessions to a floor-1 workstation (gw-north ACL log)"})

	all := func(s ...[]netip.Addr) []netip.Addr { return slices.Concat(s...) }
	h.decoy(Decoy{ID: "decoy-fanin", Class: DecoyServiceFanIn, Start: h.start, End: h.end,
		Peers: all(h.cdn, h.m365, h.ehr, h.vmware), Hosts: []netip.Addr{h.syncHost},
		Description: "update CDN, Microsoft 365, the EHR cloud and VMware reached by many hosts every day; one workstation syncs 2 GB of files with Microsoft 365 on one day"})
	if h.patchDay >= 0 {
		h.decoy(Decoy{ID: "decoy-patch", Class: DecoyPatchDay, Start: h.at(h.patchDay, 10, 0), End: h.at(h.patchDay, 15, 0),
			Peers: h.cdn, Description: "patch day: every workstation downloads about 150 MB of updates between 10:00 and 15:00"})
	}
	h.decoy(Decoy{ID: "decoy-backup", Class: DecoyOffsiteBackup, Start: h.start, End: h.end, Hosts: []netip.Addr{h.backup},
		Peers: h.offsite, Ports: []string{"tcp/22"}, Description: "the backup server copies about 6 GB to the offsite peer every Sunday 01:00-04:00"})
	h.decoy(Decoy{ID: "decoy-quic", Class: DecoyQUICDenied, Start: h.start, End: h.end, Peers: h.google, Ports: []string{"udp/443"},
		Description: "browsers try QUIC to Google; the inside ACL denies udp/443"})
	h.decoy(Decoy{ID: "decoy-scan", Class: DecoyBackgroundScan, Start: h.start, End: h.end, Peers: h.scanners,
		Description: "internet background scanning: many sources, a few denied ports each, some telnet sprayers"})
	h.decoy(Decoy{ID: "decoy-vpnfail", Class: DecoyRejectedVPN, Start: h.start, End: h.end, Peers: h.scanners[:40],
		Description: "password spraying against the AnyConnect headend: rejected logins with made-up user names"})
	h.decoy(Decoy{ID: "decoy-replies", Class: DecoyRouterReplies, Start: h.start, End: h.end, Hosts: all(h.staff, h.ws2),
		Ports:       []string{"tcp/3389", "tcp/445"},
		Description: "IT staff's remote assistance from the management network to floor 2: gw-north logs the reply packets from 3389/445"})
	h.decoy(Decoy{ID: "decoy-rtrpermit", Class: DecoyRouterPermitted, Start: h.start, End: h.end, Hosts: h.ws2,
		Ports: []string{"tcp/8080", "udp/443"}, Description: "gw-north's catch-all permits floor-2 traffic the ASA then denies (106100 denied, 106023)"})
	h.decoy(Decoy{ID: "decoy-sanpoll", Class: DecoyMgmtPollSAN, Start: h.start, End: h.end, Hosts: []netip.Addr{h.poller},
		Peers: h.sanMgmt, Ports: []string{"tcp/443", "udp/161"}, Description: "monitoring polls the SAN arrays' management addresses through the ASA; the policy allows management to any"})
	h.decoy(Decoy{ID: "decoy-pings", Class: DecoyPings, Start: h.start, End: h.end, Hosts: h.ws2, Peers: h.servers,
		Description: "a few pings a day from floor 2 to servers"})
	h.decoy(Decoy{ID: "decoy-cgnat", Class: DecoyCGNATRoaming, Start: h.start, End: h.end, User: h.users[0].name,
		Description: "a VPN user on a mobile carrier's CGNAT (80.187.0.0/16) appears from a new address nearly every session"})
	h.decoy(Decoy{ID: "decoy-hire", Class: DecoyNewHire, Start: h.at(h.hireDay, 0, 0), End: h.end, User: hire.name, Peers: hire.homes,
		Description: "a new hire's first-ever VPN login"})
	h.decoy(Decoy{ID: "decoy-callhome", Class: DecoyPrinterCallHome, Start: h.start, End: h.end, Hosts: h.printers, Peers: h.vendorCallHome,
		Ports: []string{"tcp/443"}, Description: "managed printers call their vendor hourly; the policy allows printers tcp/443 to the internet"})
	var homes []netip.Addr
	for _, u := range h.users {
		homes = append(homes, u.homes...)
	}
	h.decoy(Decoy{ID: "decoy-headend", Class: DecoyHeadend, Start: h.start, End: h.end, Hosts: []netip.Addr{h.outsideAddr},
		Peers: homes, Ports: []string{"udp/443", "tcp/443"}, Description: "AnyConnect clients' TLS and DTLS tunnels to the ASA's outside address"})
	h.decoy(Decoy{ID: "decoy-failedsyn", Class: DecoyFailedSYNs, Start: time.UnixMilli(h.deadFrom).In(h.loc), End: h.end,
		Hosts: []netip.Addr{h.poller}, Description: "the monitoring server keeps trying the dead VM host: 0-byte SYN timeouts"})
}

// generateHarbor writes a harbor run.
func generateHarbor(ctx context.Context, cfg Config, w Writers) (Truth, error) {
	h, err := newHarbor(cfg, w)
	if err != nil {
		return Truth{}, err
	}
	for day := range h.cfg.Days {
		if err := ctx.Err(); err != nil {
			return Truth{}, fmt.Errorf("generate: %w", err)
		}
		h.genDay(day)
		if err := h.flushDay(day); err != nil {
			return Truth{}, err
		}
	}
	h.truth.Lines = h.lines
	for _, o := range h.out {
		if err := o.Flush(); err != nil {
			return Truth{}, fmt.Errorf("write harbor lines: %w", err)
		}
	}
	return h.truth, nil
}

func (h *harbor) push(t int64, dev uint8, inc int, format string, args ...any) {
	h.day = append(h.day, hline{t: t, dev: dev, body: fmt.Sprintf(format, args...), inc: inc})
}

func (h *harbor) eph() int     { return 49152 + h.rng.IntN(16384) }
func (h *harbor) next() uint32 { h.conn++; return h.conn }

func durText(ms int64) string {
	s := ms / 1000
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// conn writes an ASA connection: the "for" side (ifA, a) and the "to" side (ifB, b), built
// and torn down with bytes. outbound names the direction the ASA prints.
func (h *harbor) connASA(t int64, inc int, proto string, outbound bool, ifA string, a netip.Addr, ap int, ifB string, b netip.Addr, bp int, mapped netip.Addr, mp int, bytes uint64, durMs int64, reason string) {
	id := h.next()
	dir := "inbound"
	if outbound {
		dir = "outbound"
	}
	up, bm, tm := "TCP", 302013, 302014
	if proto == "udp" {
		up, bm, tm = "UDP", 302015, 302016
	}
	if !mapped.IsValid() {
		mapped, mp = b, bp
	}
	h.push(t, hASA, inc, "%%ASA-6-%d: Built %s %s connection %d for %s:%s/%d (%s/%d) to %s:%s/%d (%s/%d)",
		bm, dir, up, id, ifA, a, ap, a, ap, ifB, b, bp, mapped, mp)
	tail := ""
	if up == "TCP" {
		tail = " " + reason
	}
	h.push(t+durMs, hASA, inc, "%%ASA-6-%d: Teardown %s connection %d for %s:%s/%d to %s:%s/%d duration %s bytes %d%s",
		tm, up, id, ifA, a, ap, ifB, b, bp, durText(durMs), bytes, tail)
}

// out is an inside host's connection to an external peer through PAT.
func (h *harbor) outConn(day int, t int64, inc int, host, peer netip.Addr, proto string, port int, bytes uint64, durMs int64) {
	if inc == 0 {
		h.dayOut[day] += bytes
	}
	h.connASA(t, inc, proto, true, "outside", peer, port, "inside", host, h.eph(), h.outsideAddr, 1024+h.rng.IntN(60000), bytes, durMs, "TCP FINs")
}

func (h *harbor) lognormal(median, sigma float64) uint64 {
	v := median * math.Exp(sigma*max(-4, min(4, h.rng.NormFloat64())))
	return uint64(max(1, v))
}

func (h *harbor) pick(s []netip.Addr) netip.Addr { return s[h.rng.IntN(len(s))] }

func (h *harbor) rtr(t int64, inc int, permit bool, proto string, src netip.Addr, sp int, dst netip.Addr, dp int, packets int) {
	act := "permitted"
	if !permit {
		act = "denied"
	}
	pk := "packets"
	if packets == 1 {
		pk = "packet"
	}
	if proto == "icmp" {
		h.push(t, hRtr, inc, "%%SEC-6-IPACCESSLOGDP: list FLOOR2-IN %s icmp %s -> %s (8/0), %d %s", act, src, dst, packets, pk)
		return
	}
	h.push(t, hRtr, inc, "%%SEC-6-IPACCESSLOGP: list FLOOR2-IN %s %s %s(%d) -> %s(%d), %d %s", act, proto, src, sp, dst, dp, packets, pk)
}

func (h *harbor) isWS2(a netip.Addr) bool { return a.As4()[2] == 110 }

func (h *harbor) genDay(day int) {
	ds := h.at(day, 0, 0)
	base := ds.UnixMilli()
	weekend := h.weekend(day)
	mul := 0.9 + 0.2*h.rng.Float64()
	hourMs := int64(3600_000)
	ws := slices.Concat(h.ws1, h.ws2)
	for hr := range 24 {
		hs := base + int64(hr)*hourMs
		wgt := hourWeight[hr]
		if weekend {
			wgt = weekendWeight(hr)
		}
		n := int(float64(h.cfg.LinesPerDay) * wgt / weekdaySum / 3.2 * mul)
		for range n {
			t := hs + h.rng.Int64N(hourMs)
			h.session(day, t, ws)
		}
		h.fixed(day, hs, hr, weekend)
	}
	h.vpnDayPlan(day, base, weekend)
	h.plant(day, base, weekend)
}

// session is one scaled normal session.
func (h *harbor) session(day int, t int64, ws []netip.Addr) {
	x := h.rng.IntN(100)
	switch {
	case x < 40: // web
		host, peer := h.pick(ws), h.pick(h.web)
		port := 443
		if h.rng.IntN(8) == 0 {
			port = 80
		}
		h.outConn(day, t, 0, host, peer, "tcp", port, h.lognormal(40_000, 1.4), 300+h.rng.Int64N(30_000))
		if h.isWS2(host) {
			h.rtr(t, 0, true, "tcp", host, h.eph(), peer, port, 1+h.rng.IntN(30))
		}
	case x < 52: // SaaS and update CDN: high fan-in, everyone every day
		host := h.pick(ws)
		peer := h.pick(h.m365)
		if h.rng.IntN(3) == 0 {
			peer = h.pick(h.cdn)
		} else if h.rng.IntN(4) == 0 {
			peer = h.pick(h.ehr)
		}
		h.outConn(day, t, 0, host, peer, "tcp", 443, h.lognormal(400_000, 1.2), 1000+h.rng.Int64N(60_000))
	case x < 60: // QUIC denied
		host := h.pick(ws)
		g := h.pick(h.google)
		h.push(t, hASA, 0, "%%ASA-4-106023: Deny udp src inside:%s/%d dst outside:%s/443 by access-group \"inside_access_in\" [0x5c1f2a, 0x0]", host, h.eph(), g)
		if h.isWS2(host) {
			h.rtr(t, 0, true, "udp", host, h.eph(), g, 443, 1+h.rng.IntN(5))
		}
	case x < 62: // floor 2 to tcp/8080 on the internet: the router permits, the ASA denies
		host, peer := h.pick(h.ws2), h.pick(h.web)
		sp := h.eph()
		h.rtr(t, 0, true, "tcp", host, sp, peer, 8080, 1+h.rng.IntN(3))
		h.push(t+5, hASA, 0, "%%ASA-4-106100: access-list inside_access_in denied tcp inside/%s(%d) -> outside/%s(8080) hit-cnt 1 first hit [0x9e2d11aa, 0x0]", host, sp, peer)
	case x < 72: // DNS forwarding
		h.outConn(day, t, 0, h.pick(h.dcs), h.pick(h.resolvers), "udp", 53, h.lognormal(200, 0.3), h.rng.Int64N(100))
	case x < 84: // floor 2 to servers through gw-north
		host := h.pick(h.ws2)
		ports := []int{445, 443, 3389, 88, 389}
		p := ports[h.rng.IntN(len(ports))]
		srv := h.pick(h.servers)
		if p == 88 || p == 389 {
			srv = h.pick(h.dcs)
		}
		h.rtr(t, 0, true, "tcp", host, h.eph(), srv, p, 1+h.rng.IntN(40))
	case x < 88: // background scanning of the outside address
		src := h.pick(h.scanners)
		ports := []int{22, 23, 80, 443, 445, 3389, 8080, 5900, 1433, 2323, 8291, 5555, 37215, 7547}
		h.push(t, hASA, 0, "%%ASA-4-106023: Deny tcp src outside:%s/%d dst outside:%s/%d by access-group \"outside_access_in\" [0x0, 0x0]",
			src, h.eph(), h.outsideAddr, ports[h.rng.IntN(len(ports))])
	case x < 91: // password spraying
		src := h.scanners[h.rng.IntN(40)]
		names := []string{"admin", "test", "vpn", "user", "scanner", "support", "backup", "guest"}
		h.push(t, hASA, 0, "%%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = %s : user = %s : user IP = %s",
			h.dcs[0], names[h.rng.IntN(len(names))], src)
		h.connASA(t-800, 0, "tcp", false, "outside", src, h.eph(), "identity", h.outsideAddr, 443, netip.Addr{}, 0, h.lognormal(6_000, 0.3), 2000, "TCP FINs")
	case x < 95: // mail and files with the servers from floor 1: no ASA line (same interface); EHR from servers
		h.outConn(day, t, 0, h.pick(h.servers), h.pick(h.ehr), "tcp", 443, h.lognormal(300_000, 1.0), 500+h.rng.Int64N(20_000))
	default: // servers' updates
		h.outConn(day, t, 0, h.pick(h.servers), h.pick(h.cdn), "tcp", 443, h.lognormal(2_000_000, 1.0), 2000+h.rng.Int64N(60_000))
	}
}

// fixed is the traffic that does not scale: ESX heartbeats and polling, printers, the print
// server agent, SAN management polling, remote assistance and pings.
func (h *harbor) fixed(day int, hs int64, hr int, weekend bool) {
	for i, v := range h.vmhosts {
		dead := v == h.deadHost
		for q := int64(0); q < 3600_000; q += 15 * 60_000 {
			t := hs + q + h.rng.Int64N(60_000)
			if dead && t >= h.deadFrom {
				continue
			}
			h.outConn(day, t, 0, v, h.vmware[i%len(h.vmware)], "tcp", 443, h.lognormal(30_000, 0.4), 400+h.rng.Int64N(2000))
		}
		// The monitoring server polls every host every 10 minutes through the ASA.
		for q := int64(0); q < 3600_000; q += 10 * 60_000 {
			t := hs + q + int64(i)*7_000 + h.rng.Int64N(3000)
			if dead && t >= h.deadFrom {
				h.connASA(t, h.inc["silent-1"], "tcp", true, "inside", v, 443, "mgmt", h.poller, h.eph(), netip.Addr{}, 0, 0, 30_000, "SYN Timeout")
				continue
			}
			h.connASA(t, 0, "tcp", true, "inside", v, 443, "mgmt", h.poller, h.eph(), netip.Addr{}, 0, h.lognormal(8_000, 0.3), 800, "TCP FINs")
		}
	}
	for i, p := range h.printers {
		t := hs + int64(i*4)*60_000 + h.rng.Int64N(30_000)
		h.outConn(day, t, 0, p, h.vendorCallHome[i%len(h.vendorCallHome)], "tcp", 443, h.lognormal(60_000, 0.4), 500+h.rng.Int64N(3000))
	}
	if hr%8 == 3 {
		t := hs + h.rng.Int64N(3600_000)
		h.outConn(day, t, h.inc["printer-1"], h.printSrv, h.vendorMon[0], "tcp", 443, uint64(7_000+h.rng.IntN(3000)), 1500+h.rng.Int64N(3000))
	}
	if hr%2 == 0 {
		for _, m := range h.sanMgmt {
			t := hs + h.rng.Int64N(3600_000)
			h.connASA(t, 0, "tcp", true, "storage", m, 443, "mgmt", h.poller, h.eph(), netip.Addr{}, 0, h.lognormal(40_000, 0.3), 1200, "TCP FINs")
			h.connASA(t+2000, 0, "udp", true, "storage", m, 161, "mgmt", h.poller, h.eph(), netip.Addr{}, 0, 900, 50, "")
		}
	}
	if !weekend && hr >= 9 && hr < 17 {
		if h.rng.IntN(3) == 0 { // remote assistance: replies from the workstation's 3389/445
			staff, w := h.pick(h.staff), h.pick(h.ws2)
			sp, port := h.eph(), 3389
			if h.rng.IntN(3) == 0 {
				port = 445
			}
			t := hs + h.rng.Int64N(3000_000)
			for k := range 3 + h.rng.IntN(6) {
				h.rtr(t+int64(k)*40_000, 0, true, "tcp", w, port, staff, sp, 5+h.rng.IntN(200))
			}
		}
		if h.rng.IntN(4) == 0 {
			t := hs + h.rng.Int64N(3600_000)
			h.rtr(t, 0, true, "icmp", h.pick(h.ws2), 0, h.pick(h.servers), 0, 1+h.rng.IntN(4))
		}
	}
	if !weekend && hr == 7 { // NTP
		for _, dc := range h.dcs {
			h.outConn(day, hs+h.rng.Int64N(600_000), 0, dc, h.resolvers[0], "udp", 123, 96, 40)
		}
	}
}

// vpnDayPlan writes the day's VPN sessions: login, tunnel to the headend, traffic inside.
func (h *harbor) vpnDayPlan(day int, base int64, weekend bool) {
	p := 0.6
	if weekend {
		p = 0.1
	}
	for ui := range h.users {
		u := &h.users[ui]
		if day < u.first || (ui == 2 && day == h.vpnDay) {
			continue
		}
		if day != u.first && h.rng.Float64() >= p && !(day < 7 && h.sessions[ui] <= len(u.homes)) {
			continue
		}
		src := u.homes[h.rng.IntN(len(u.homes))]
		early := h.sessions[ui] < len(u.homes)+1 // every home, then the carrier, once first
		if early {
			src = u.homes[h.sessions[ui]%len(u.homes)]
		}
		if u.carrier && (!early || h.sessions[ui] == len(u.homes)) && h.rng.IntN(5) > 0 {
			src = a4(80, 187, h.rng.IntN(256), 1+h.rng.IntN(254))
		}
		h.sessions[ui]++
		t := base + 7*3600_000 + h.rng.Int64N(12*3600_000)
		h.vpnSession(day, t, ui, src, 0)
	}
}

func (h *harbor) vpnSession(day int, t int64, ui int, src netip.Addr, inc int) {
	u := h.users[ui]
	if h.rng.IntN(10) == 0 {
		h.push(t-30_000, hASA, inc, "%%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = %s : user = %s : user IP = %s", h.dcs[0], u.name, src)
	}
	h.push(t, hASA, inc, "%%ASA-6-113004: AAA user authentication Successful : server = %s : user = %s", h.dcs[0], u.name)
	h.push(t+300, hASA, inc, "%%ASA-6-716001: Group <GroupPolicy_Staff> User <%s> IP <%s> WebVPN session started.", u.name, src)
	h.push(t+900, hASA, inc, "%%ASA-6-722022: Group <GroupPolicy_Staff> User <%s> IP <%s> UDP SVC connection established without compression", u.name, src)
	h.push(t+1000, hASA, inc, "%%ASA-4-722051: Group <GroupPolicy_Staff> User <%s> IP <%s> IPv4 Address <%s> IPv6 address <::> assigned to session", u.name, src, u.pool)
	dur := int64(30*60_000) + h.rng.Int64N(4*3600_000)
	var sent uint64
	for at := t + 10_000; at < t+dur-120_000; at += 120_000 + h.rng.Int64N(20*60_000) {
		srv, port := h.pick(h.servers[:4]), 3389
		if h.rng.IntN(3) == 0 {
			srv, port = h.pick(h.servers), 445
		}
		b := h.lognormal(300_000, 1.0)
		sent += b
		h.connASA(at, inc, "tcp", false, "outside", u.pool, h.eph(), "inside", srv, port, netip.Addr{}, 0, b, 1000+h.rng.Int64N(10*60_000), "TCP FINs")
	}
	// The tunnels themselves end on the ASA: TLS and DTLS to its outside address.
	sp := h.eph()
	h.connASA(t+500, inc, "tcp", false, "outside", src, sp, "identity", h.outsideAddr, 443, netip.Addr{}, 0, sent/10+20_000, dur, "TCP FINs")
	h.connASA(t+950, inc, "udp", false, "outside", src, sp+1, "identity", h.outsideAddr, 443, netip.Addr{}, 0, sent+sent/8+50_000, dur-2000, "")
	end := t + dur
	h.push(end, hASA, inc, "%%ASA-6-722023: Group <GroupPolicy_Staff> User <%s> IP <%s> UDP SVC connection terminated without compression", u.name, src)
	h.push(end+100, hASA, inc, "%%ASA-6-716002: Group <GroupPolicy_Staff> User <%s> IP <%s> WebVPN session terminated: User Requested.", u.name, src)
	s := dur / 1000
	h.push(end+200, hASA, inc, "%%ASA-4-113019: Group = GroupPolicy_Staff, Username = %s, IP = %s, Session disconnected. Session Type: AnyConnect-Parent, Duration: %dh:%02dm:%02ds, Bytes xmt: %d, Bytes rcv: %d, Reason: User Requested",
		u.name, src, s/3600, s/60%60, s%60, sent/3+4096, sent)
}

func (h *harbor) plant(day int, base int64, weekend bool) {
	ms := func(hh, mm int) int64 { return h.at(day, hh, mm).UnixMilli() }
	wd := h.start.AddDate(0, 0, day).Weekday()
	if wd == time.Sunday { // weekly offsite backup
		for k := range 12 {
			t := ms(1, 0) + int64(k)*15*60_000 + h.rng.Int64N(60_000)
			h.outConn(day, t, 0, h.backup, h.offsite[0], "tcp", 22, 450_000_000+uint64(h.rng.IntN(100_000_000)), 14*60_000)
		}
	}
	if day == h.patchDay {
		for _, w := range slices.Concat(h.ws1, h.ws2) {
			for k := range 3 {
				t := ms(10, 0) + h.rng.Int64N(5*3600_000)
				_ = k
				h.outConn(day, t, 0, w, h.pick(h.cdn), "tcp", 443, 40_000_000+uint64(h.rng.IntN(20_000_000)), 60_000+h.rng.Int64N(120_000))
			}
		}
	}
	if day == h.syncDay {
		for k := range 20 {
			t := ms(9, 30) + int64(k)*6*60_000 + h.rng.Int64N(60_000)
			h.outConn(day, t, 0, h.syncHost, h.pick(h.m365), "tcp", 443, 90_000_000+uint64(h.rng.IntN(20_000_000)), 4*60_000)
		}
	}
	if day == h.exfilDay {
		var ref, n uint64
		for d := range day {
			if !h.weekend(d) {
				ref += h.dayOut[d]
				n++
			}
		}
		ref /= max(1, n)
		total := max(3*ref, 3_000_000_000)
		in := &h.truth.Incidents[h.inc["exfil-1"]-1]
		in.Baseline = ref
		for k := range 30 {
			t := ms(14, 0) + int64(k)*3*60_000 + h.rng.Int64N(30_000)
			b := total / 30
			in.Bytes += b
			h.outConn(day, t, h.inc["exfil-1"], h.exfilHost, h.exfilPeer, "tcp", 443, b, 2*60_000+h.rng.Int64N(30_000))
		}
		// The next morning the same workstation is busy again, with ordinary services only.
		if day+1 < h.cfg.Days {
			for k := range 6 {
				t := ms(24+9, 0) + int64(k)*5*60_000
				h.outConn(day, t, 0, h.exfilHost, h.pick(h.cdn), "tcp", 443, 30_000_000, 3*60_000)
			}
		}
	}
	if day >= h.sanDay {
		for k := range 4 {
			t := ms(0, 30) + int64(k)*20*60_000 + h.rng.Int64N(60_000)
			b := h.lognormal(250_000_000, 0.3)
			h.truth.Incidents[h.inc["san-1"]-1].Bytes += b
			h.connASA(t, h.inc["san-1"], "tcp", true, "storage", h.sanArrays[0], 2049, "inside", h.sanClient, h.eph(), netip.Addr{}, 0, b, 15*60_000, "TCP FINs")
		}
	}
	if day >= h.dnsDay {
		for hh := range 24 {
			for range 4 {
				t := ms(hh, 0) + h.rng.Int64N(3600_000)
				h.outConn(day, t, h.inc["dns-1"], h.dnsHost, a4(8, 8, 8, 8), "udp", 53, h.lognormal(180, 0.3), h.rng.Int64N(80))
			}
		}
	}
	if day == h.vpnDay {
		h.vpnSession(day, ms(21, 5), 2, h.vpnNewSrc, h.inc["vpn-1"])
	}
	if day == h.portDay {
		for k := range 10 {
			t := ms(9, 40) + int64(k)*35*60_000 + h.rng.Int64N(5*60_000)
			h.outConn(day, t, h.inc["ports-1"], h.portHost, h.portPeer, "tcp", 1604, h.lognormal(60_000, 0.8), 20*60_000)
		}
	}
	if day == h.scanDay {
		perm := h.rng.Perm(2000)
		sp := h.eph()
		for i := range 300 {
			t := ms(2, 20) + int64(i)*(5*60_000)/300
			h.push(t, hASA, h.inc["scan-1"], "%%ASA-4-106023: Deny tcp src outside:%s/%d dst outside:%s/%d by access-group \"outside_access_in\" [0x0, 0x0]",
				h.scanner, sp, h.outsideAddr, perm[i]+1)
		}
	}
	if day == h.segDay {
		for k := range 12 {
			t := ms(11, 0) + int64(k)*7*60_000 + h.rng.Int64N(60_000)
			port := 445
			if k%3 == 2 {
				port = 3389
			}
			h.rtr(t, h.inc["segment-1"], true, "tcp", h.segA, h.eph(), h.segB, port, 3+h.rng.IntN(40))
		}
	}
	// Telnet sprayers: a few sources, a dozen denies each spread over the day.
	for i := range 3 {
		src := h.scanners[100+(day*3+i)%60]
		for range 12 {
			t := base + h.rng.Int64N(24*3600_000)
			h.push(t, hASA, 0, "%%ASA-4-106023: Deny tcp src outside:%s/%d dst outside:%s/23 by access-group \"outside_access_in\" [0x0, 0x0]",
				src, h.eph(), h.outsideAddr)
		}
	}
	_ = weekend
}

var berlinAbbr = map[int]string{3600: "CET", 7200: "CEST"}

// flushDay sorts the day's lines and writes them with fw-hq's and gw-north's envelopes.
func (h *harbor) flushDay(day int) error {
	lines := h.day
	// Lines after the day's end (teardowns, the next morning) are carried over.
	end := h.at(day+1, 0, 0).UnixMilli()
	slices.SortStableFunc(lines, func(a, b hline) int { return int(a.t - b.t) })
	cut, _ := slices.BinarySearchFunc(lines, end, func(l hline, t int64) int {
		if l.t < t {
			return -1
		}
		return 1
	})
	if day == h.cfg.Days-1 {
		cut = len(lines)
	}
	var buf []byte
	for _, l := range lines[:cut] {
		t := time.UnixMilli(l.t).In(h.loc)
		_, off := t.Zone()
		buf = buf[:0]
		if l.dev == hASA {
			if h.frng.IntN(10) < 7 {
				// <166>2026-09-07T14:03:11+02:00 fw-hq : %ASA-...
				buf = append(buf, "<166>"...)
				buf = t.AppendFormat(buf, "2006-01-02T15:04:05-07:00")
				buf = append(buf, " fw-hq : "...)
			} else {
				// <166>Sep 07 2026 14:03:11 CEST fw-hq : %ASA-...
				buf = append(buf, "<166>"...)
				buf = t.AppendFormat(buf, "Jan 02 2006 15:04:05")
				buf = append(buf, ' ')
				buf = append(buf, berlinAbbr[off]...)
				buf = append(buf, " fw-hq : "...)
			}
		} else {
			h.seq++
			// <189>004711: gw-north: Sep  7 14:03:11.123 CEST: %SEC-6-...
			buf = append(buf, "<189>"...)
			buf = append(buf, fmt.Sprintf("%06d", h.seq)...)
			buf = append(buf, ": gw-north: "...)
			buf = t.AppendFormat(buf, "Jan _2 15:04:05.000")
			buf = append(buf, ' ')
			buf = append(buf, berlinAbbr[off]...)
			buf = append(buf, ": "...)
		}
		buf = append(buf, l.body...)
		buf = append(buf, '\n')
		fam := int(l.dev)
		if _, err := h.out[fam].Write(buf); err != nil {
			return fmt.Errorf("write line: %w", err)
		}
		h.lines[fam]++
		if l.inc > 0 {
			h.truth.Incidents[l.inc-1].Lines++
		}
	}
	h.day = append(h.day[:0], lines[cut:]...)
	return nil
}

var _ = strconv.Itoa
