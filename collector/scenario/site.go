package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/goccy/go-yaml"
)

// Site describes the facility. Every size is a field so a scenario file can change it; addresses
// are laid out from the sizes (see the policy Site.Policy writes for the resulting networks).
type Site struct {
	Name     string `yaml:"name"`     // short site name
	Timezone string `yaml:"timezone"` // IANA zone of working hours and of the ASA's clock

	DomainControllers int `yaml:"domain_controllers"` // 10.1.10.10.. (at least 2: the second one misbehaves)
	PrintServers      int `yaml:"print_servers"`      // 10.1.10.20..
	TerminalServers   int `yaml:"terminal_servers"`   // clinical terminal servers, 10.1.10.30..
	DentalServers     int `yaml:"dental_servers"`     // 10.1.10.50..
	AppServers        int `yaml:"app_servers"`        // other servers (EHR, PACS, files), 10.1.10.60..
	TestServers       int `yaml:"test_servers"`       // 10.1.12.10..
	VMHosts           int `yaml:"vm_hosts"`           // 10.1.11.1..
	SANArrays         int `yaml:"san_arrays"`         // 10.1.50.10..

	Printers       int `yaml:"printers"`        // across the three buildings, 10.B.30.x
	VendorPrinters int `yaml:"vendor_printers"` // printers that talk to their vendor

	// Workstations per building b1, b2, b3 (10.B.100.0/22 each).
	Workstations [3]int `yaml:"workstations"`
	VPNUsers     int    `yaml:"vpn_users"` // AnyConnect users; pool 10.1.99.0/24
}

// DefaultSite is the facility of the issue: about 70 servers, 50 printers, a few hundred
// workstations in three buildings and 20 VPN users.
func DefaultSite() Site {
	return Site{
		Name:              "clinic",
		Timezone:          "America/Chicago",
		DomainControllers: 2,
		PrintServers:      1,
		TerminalServers:   8,
		DentalServers:     1,
		AppServers:        38,
		TestServers:       5,
		VMHosts:           11,
		SANArrays:         4,
		Printers:          50,
		VendorPrinters:    15,
		Workstations:      [3]int{160, 100, 80},
		VPNUsers:          20,
	}
}

// ErrInvalidSite is wrapped by every error of Site.Validate.
var ErrInvalidSite = errors.New("invalid site")

// Validate checks that the sizes fit the address plan.
func (s Site) Validate() error {
	check := func(field string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("%s = %d, want %d..%d: %w", field, v, lo, hi, ErrInvalidSite)
		}
		return nil
	}
	if s.Name == "" {
		return fmt.Errorf("name is empty: %w", ErrInvalidSite)
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		return fmt.Errorf("timezone %q: %w: %w", s.Timezone, ErrInvalidSite, err)
	}
	for _, c := range []struct {
		f         string
		v, lo, hi int
	}{
		{"domain_controllers", s.DomainControllers, 2, 5},
		{"print_servers", s.PrintServers, 1, 5},
		{"terminal_servers", s.TerminalServers, 1, 20},
		{"dental_servers", s.DentalServers, 0, 5},
		{"app_servers", s.AppServers, 1, 140},
		{"test_servers", s.TestServers, 0, 200},
		{"vm_hosts", s.VMHosts, 1, 62},
		{"san_arrays", s.SANArrays, 1, 200},
		{"printers", s.Printers, 3, 600},
		{"vendor_printers", s.VendorPrinters, 0, s.Printers},
		{"workstations[0]", s.Workstations[0], 1, 1000},
		{"workstations[1]", s.Workstations[1], 12, 1000},
		{"workstations[2]", s.Workstations[2], 12, 1000},
		{"vpn_users", s.VPNUsers, 4, 200},
	} {
		if err := check(c.f, c.v, c.lo, c.hi); err != nil {
			return err
		}
	}
	return nil
}

// ParseSite reads a scenario file's YAML over DefaultSite: keys present replace the defaults,
// unknown keys are an error, and the result is validated.
func ParseSite(data []byte) (Site, error) {
	s := DefaultSite()
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.UnmarshalWithOptions(data, &s, yaml.Strict()); err != nil {
			return Site{}, fmt.Errorf("decode site: %w", err)
		}
	}
	if err := s.Validate(); err != nil {
		return Site{}, err
	}
	return s, nil
}

// LoadSiteFile reads a scenario file (see ParseSite).
func LoadSiteFile(path string) (Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Site{}, fmt.Errorf("read site file: %w", err)
	}
	s, err := ParseSite(data)
	if err != nil {
		return Site{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Device indices; also the order of Writers.
const (
	devASA = iota
	devRtrB2
	devRtrB3
	numDevices
)

var deviceNames = [numDevices]string{"asa1", "rtr-b2", "rtr-b3"}

// Device addresses on the management network; syslog comes from these.
var deviceAddrs = [numDevices]netip.Addr{
	netip.AddrFrom4([4]byte{10, 10, 0, 1}),
	netip.AddrFrom4([4]byte{10, 10, 0, 2}),
	netip.AddrFrom4([4]byte{10, 10, 0, 3}),
}

// Interfaces of the ASA.
const (
	ifNone uint8 = iota
	ifOutside
	ifInside
	ifDMZ
)

var ifNames = [...]string{"", "outside", "inside", "dmz"}

// role of an address in the layout.
type role uint8

const (
	roleExternal role = iota
	roleDC
	rolePrintServer
	roleTerminal
	roleDental
	roleApp
	roleTest
	roleVMHost
	roleSAN
	rolePrinter
	roleWorkstation
	roleDMZ
	roleVPNPool
	roleBroadcast
	roleASA
)

// addrEntry is one address with its text form preformatted for the hot path.
type addrEntry struct {
	a      netip.Addr
	s      string
	role   role
	vendor uint32 // printers: index into layout.vendors
}

// user is a VPN user with habitual home addresses.
type user struct {
	name  string
	homes []uint32 // indices into layout.addrs
	pool  uint32   // assigned pool address
}

// layout is the site resolved into address tables. Built once per Generate; read-only after.
type layout struct {
	site  Site
	loc   *time.Location
	addrs []addrEntry
	index map[netip.Addr]uint32

	dcs, printSrv, terminals, dental, apps, tests, vmHosts, san []uint32
	printers, vendorPrinters                                    []uint32
	ws                                                          [3][]uint32 // per building
	wsBroadcast                                                 [3]uint32
	dmzMail, dmzWeb, dmzPortal                                  uint32
	pubMail, pubWeb, pubPortal, pubPAT                          uint32 // static and PAT public addresses
	cdn, mailPeers, web, clients, noise                         []uint32
	vendors                                                     [2][]uint32 // Xerox, HP
	approvedResolvers                                           []uint32
	unapprovedResolver, ntp                                     uint32
	users                                                       []user
	upd                                                         []uint32 // updateServers, precomputed
	admins                                                      []string

	// Incident addresses.
	exfilPeer, ircPeer, shellPeer, scanner, newVPNSource uint32
	deniers                                              []uint32
}

func v4(a, b, c, d int) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a), byte(b), byte(c), byte(d)})
}

func (l *layout) add(a netip.Addr, r role) uint32 {
	if i, ok := l.index[a]; ok {
		return i
	}
	i := uint32(len(l.addrs))
	l.addrs = append(l.addrs, addrEntry{a: a, s: a.String(), role: r})
	l.index[a] = i
	return i
}

var userNames = []string{
	"ajohnson", "bsmith", "cwilliams", "mgarcia", "dbrown", "ejones", "fmiller", "gdavis",
	"hrodriguez", "imartinez", "jhernandez", "klopez", "lgonzalez", "mwilson", "nanderson",
	"othomas", "ptaylor", "qmoore", "rjackson", "smartin", "twhite", "uharris", "vclark",
	"wlewis", "xrobinson", "ywalker", "zyoung", "aallen", "bking", "cwright",
}

func buildLayout(s Site) (*layout, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return nil, fmt.Errorf("site timezone: %w", err)
	}
	l := &layout{site: s, loc: loc, index: make(map[netip.Addr]uint32, 4096)}
	seq := func(dst *[]uint32, n int, r role, at func(i int) netip.Addr) {
		for i := range n {
			*dst = append(*dst, l.add(at(i), r))
		}
	}
	seq(&l.dcs, s.DomainControllers, roleDC, func(i int) netip.Addr { return v4(10, 1, 10, 10+i) })
	seq(&l.printSrv, s.PrintServers, rolePrintServer, func(i int) netip.Addr { return v4(10, 1, 10, 20+i) })
	seq(&l.terminals, s.TerminalServers, roleTerminal, func(i int) netip.Addr { return v4(10, 1, 10, 30+i) })
	seq(&l.dental, s.DentalServers, roleDental, func(i int) netip.Addr { return v4(10, 1, 10, 50+i) })
	seq(&l.apps, s.AppServers, roleApp, func(i int) netip.Addr { return v4(10, 1, 10, 60+i) })
	seq(&l.tests, s.TestServers, roleTest, func(i int) netip.Addr { return v4(10, 1, 12, 10+i) })
	seq(&l.vmHosts, s.VMHosts, roleVMHost, func(i int) netip.Addr { return v4(10, 1, 11, 1+i) })
	seq(&l.san, s.SANArrays, roleSAN, func(i int) netip.Addr { return v4(10, 1, 50, 10+i) })

	// Printers: half in b1, a quarter in each of b2 and b3.
	per := [3]int{s.Printers - 2*(s.Printers/4), s.Printers / 4, s.Printers / 4}
	for b := range 3 {
		seq(&l.printers, per[b], rolePrinter, func(i int) netip.Addr { return v4(10, b+1, 30+i/250, 10+i%250) })
	}
	for b := range 3 {
		seq(&l.ws[b], s.Workstations[b], roleWorkstation, func(i int) netip.Addr {
			return v4(10, b+1, 100+i/250, 10+i%250)
		})
		l.wsBroadcast[b] = l.add(v4(10, b+1, 103, 255), roleBroadcast)
	}
	l.dmzMail = l.add(v4(10, 1, 20, 10), roleDMZ)
	l.dmzWeb = l.add(v4(10, 1, 20, 11), roleDMZ)
	l.dmzPortal = l.add(v4(10, 1, 20, 12), roleDMZ)
	l.pubPAT = l.add(v4(203, 0, 113, 1), roleASA)
	l.pubMail = l.add(v4(203, 0, 113, 10), roleASA)
	l.pubWeb = l.add(v4(203, 0, 113, 11), roleASA)
	l.pubPortal = l.add(v4(203, 0, 113, 12), roleASA)

	ext := func(dst *[]uint32, a netip.Addr) { *dst = append(*dst, l.add(a, roleExternal)) }
	for i := range 8 {
		ext(&l.cdn, v4(192, 0, 2, 10+i))
	}
	for i := range 10 {
		ext(&l.mailPeers, v4(192, 0, 2, 25+i))
	}
	for i := range 2 {
		ext(&l.vendors[0], v4(192, 0, 2, 50+i)) // Xerox
		ext(&l.vendors[1], v4(192, 0, 2, 60+i)) // HP
	}
	l.ntp = l.add(v4(192, 0, 2, 123), roleExternal)
	for i := 1; i <= 199; i++ {
		ext(&l.web, v4(198, 51, 100, i))
	}
	for i := 40; i <= 99; i++ {
		ext(&l.web, v4(203, 0, 113, i))
	}
	for i := 100; i <= 199; i++ {
		ext(&l.clients, v4(203, 0, 113, i))
	}
	for i := 1; i <= 150; i++ {
		ext(&l.clients, v4(198, 51, 100, i))
	}
	for i := 100; i <= 229; i++ {
		ext(&l.noise, v4(203, 0, 113, i))
	}
	for _, a := range []netip.Addr{v4(8, 8, 8, 8), v4(8, 8, 4, 4), v4(1, 1, 1, 1)} {
		ext(&l.approvedResolvers, a)
	}
	l.unapprovedResolver = l.add(v4(9, 9, 9, 9), roleExternal)

	for i, p := range l.printers {
		l.addrs[p].vendor = uint32(i % 2) // Xerox and HP alternate
	}
	if s.VendorPrinters > 0 {
		step := s.Printers / s.VendorPrinters
		for i := 0; i < s.VendorPrinters; i++ {
			l.vendorPrinters = append(l.vendorPrinters, l.printers[i*step])
		}
	}

	for i := range s.VPNUsers {
		name := userNames[i%len(userNames)]
		if i >= len(userNames) {
			name = fmt.Sprintf("%s%d", name, i/len(userNames))
		}
		u := user{name: name, pool: l.add(v4(10, 1, 99, 10+i), roleVPNPool)}
		u.homes = append(u.homes, l.add(v4(198, 51, 100, 200+(2*i)%50), roleExternal))
		if i%3 == 0 {
			u.homes = append(u.homes, l.add(v4(198, 51, 100, 200+(2*i+1)%50), roleExternal))
		}
		l.users = append(l.users, u)
	}
	l.admins = []string{"netadmin", "jkowalski"}

	l.exfilPeer = l.add(v4(203, 0, 113, 233), roleExternal)
	l.shellPeer = l.add(v4(192, 0, 2, 144), roleExternal)
	l.ircPeer = l.add(v4(192, 0, 2, 167), roleExternal)
	l.scanner = l.add(v4(203, 0, 113, 250), roleExternal)
	l.newVPNSource = l.add(v4(198, 51, 100, 253), roleExternal)
	for i := range 3 {
		l.deniers = append(l.deniers, l.add(v4(203, 0, 113, 241+i), roleExternal))
	}
	l.upd = l.updateServers()
	return l, nil
}

// updateServers are the servers that talk to the update CDN: not the VM hosts (they have their
// own fixed traffic) and not the print server (its only external peer is the vendor).
func (l *layout) updateServers() []uint32 {
	var out []uint32
	out = append(out, l.terminals...)
	out = append(out, l.dental...)
	out = append(out, l.apps...)
	out = append(out, l.tests...)
	return out
}
