package scenario

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run generates cfg into memory, recording every rec with its line and envelope.
type recorded struct {
	r     rec
	style uint8
	line  string
}

type runResult struct {
	g      *generator
	truth  Truth
	asa    []byte
	rtr    []byte
	lines  []recorded
	byKind [kIOSLogDP + 1]int
}

func record(t testing.TB, cfg Config, keepLines bool) runResult {
	t.Helper()
	var asa, rtr bytes.Buffer
	g, err := newGenerator(cfg, Writers{ASA: &asa, Routers: &rtr})
	if err != nil {
		t.Fatal(err)
	}
	res := runResult{g: g}
	g.sink = func(r *rec, style uint8, line []byte) {
		x := recorded{r: *r, style: style}
		if keepLines {
			x.line = string(line)
		}
		res.lines = append(res.lines, x)
		res.byKind[r.kind]++
	}
	res.truth, err = g.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res.asa, res.rtr = asa.Bytes(), rtr.Bytes()
	return res
}

func hashRun(t *testing.T, cfg Config) [32]byte {
	t.Helper()
	h := sha256.New()
	var rtr bytes.Buffer
	if _, err := Generate(context.Background(), cfg, Writers{ASA: h, Routers: &rtr}); err != nil {
		t.Fatal(err)
	}
	h.Write([]byte{0})
	h.Write(rtr.Bytes())
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func TestSameSeedSameBytes(t *testing.T) {
	cfg := Config{Seed: 7, Days: 3, LinesPerDay: 5000}
	a, b := hashRun(t, cfg), hashRun(t, cfg)
	if a != b {
		t.Fatalf("two runs with seed 7 differ: %x vs %x", a, b)
	}
	cfg.Seed = 8
	if c := hashRun(t, cfg); c == a {
		t.Fatalf("seeds 7 and 8 gave the same bytes %x", c)
	}
}

func TestLinesAreTimeOrderedAndWellFormed(t *testing.T) {
	res := record(t, Config{Seed: 1, Days: 3, LinesPerDay: 5000}, false)
	var last [2]int64
	for i, x := range res.lines {
		fam := 0
		if x.r.dev != devASA {
			fam = 1
		}
		if x.r.t < last[fam] {
			t.Fatalf("line %d goes back in time: %d < %d", i, x.r.t, last[fam])
		}
		last[fam] = x.r.t
	}
	for _, out := range [][]byte{res.asa, res.rtr} {
		if len(out) == 0 || out[len(out)-1] != '\n' {
			t.Fatal("output does not end in a newline")
		}
	}
	if got := int64(bytes.Count(res.asa, []byte{'\n'})); got != res.truth.Lines[0] {
		t.Errorf("asa lines = %d, truth says %d", got, res.truth.Lines[0])
	}
	if got := int64(bytes.Count(res.rtr, []byte{'\n'})); got != res.truth.Lines[1] {
		t.Errorf("router lines = %d, truth says %d", got, res.truth.Lines[1])
	}
	// Weekdays are busier than the weekend, working hours than nights.
	wk := record(t, Config{Seed: 1, Days: 7, LinesPerDay: 8000}, false)
	for k := kBuiltTCP; k <= kIOSLogDP; k++ {
		if wk.byKind[k] == 0 {
			t.Errorf("no line of kind %d (%s) in a week", k, msgs[k].tag)
		}
	}
	var perDay [7]int
	var day, night int
	for _, x := range wk.lines {
		lt := time.UnixMilli(x.r.t).In(wk.g.l.loc)
		d := int(lt.Sub(wk.g.start).Hours() / 24)
		if d >= 0 && d < 7 {
			perDay[d]++
		}
		if d < 5 {
			switch h := lt.Hour(); {
			case h >= 9 && h < 16:
				day++
			case h < 5:
				night++
			}
		}
	}
	if perDay[5]*2 > perDay[2] || perDay[6]*2 > perDay[2] {
		t.Errorf("weekend not quiet: lines per day %v", perDay)
	}
	if night*3 > day {
		t.Errorf("nights not quiet: %d lines 00-05 vs %d lines 09-16", night, day)
	}
}

func TestLinesPerDayScales(t *testing.T) {
	small := record(t, Config{Seed: 3, Days: 1, LinesPerDay: 10000}, false)
	big := record(t, Config{Seed: 3, Days: 1, LinesPerDay: 100000}, false)
	n0 := small.truth.Lines[0] + small.truth.Lines[1]
	n1 := big.truth.Lines[0] + big.truth.Lines[1]
	// Fixed traffic (heartbeats, printers) and incidents do not scale; allow for them.
	if n1 < 80000 || n1 > 130000 || n0 < 8000 || n0 > 20000 {
		t.Errorf("lines for 10k/day = %d, for 100k/day = %d", n0, n1)
	}
}

func TestConfigErrors(t *testing.T) {
	w := Writers{ASA: io.Discard, Routers: io.Discard}
	for _, cfg := range []Config{{Days: -1}, {LinesPerDay: -5}, {Site: Site{Name: "x"}}} {
		if _, err := Generate(context.Background(), cfg, w); err == nil {
			t.Errorf("Generate(%+v) = nil error", cfg)
		}
	}
	for _, w := range []Writers{{ASA: io.Discard}, {Routers: io.Discard}, {}, {ASA: io.Discard, All: io.Discard}} {
		if _, err := Generate(context.Background(), Config{}, w); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("writers %+v: err = %v, want ErrInvalidConfig", w, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, Config{Days: 2}, w); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v", err)
	}
}

func TestParseSite(t *testing.T) {
	s, err := ParseSite([]byte("printers: 20\nvendor_printers: 4\nworkstations: [50, 40, 30]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Printers != 20 || s.VendorPrinters != 4 || s.Workstations != [3]int{50, 40, 30} || s.VMHosts != 11 {
		t.Errorf("ParseSite = %+v", s)
	}
	for _, bad := range []string{
		"printerz: 20\n",         // unknown key
		"vendor_printers: 90\n",  // more than printers
		"timezone: Mars/Olympus", // unknown zone
		"workstations: [1, 1, 1]\n",
	} {
		if _, err := ParseSite([]byte(bad)); err == nil {
			t.Errorf("ParseSite(%q) = nil error", bad)
		}
	}
	// A smaller site still generates every incident.
	res := record(t, Config{Seed: 2, Days: 3, LinesPerDay: 3000, Site: s}, false)
	if len(res.truth.Incidents) != 10 {
		t.Errorf("small site: %d incidents, want 10", len(res.truth.Incidents))
	}
}

func TestSendRefusesNonLoopback(t *testing.T) {
	for _, target := range []string{
		"udp://192.0.2.1:514",
		"udp://example.com:514",
		"udp://[2001:db8::1]:514",
		"udp://0.0.0.0:514",
		"udp://10.10.0.50:5140",
		"udp://[::ffff:192.0.2.1]:514",
	} {
		_, err := Send(context.Background(), strings.NewReader("x\n"), target, 100)
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Send to %s: err = %v, want ErrNotLoopback", target, err)
		}
		n, err := SendLines(context.Background(), [][]byte{[]byte("x")}, target, 100, 10)
		if !errors.Is(err, ErrNotLoopback) || n != 0 {
			t.Errorf("SendLines to %s: %d, %v; want ErrNotLoopback", target, n, err)
		}
	}
	for _, target := range []string{"tcp://127.0.0.1:514", "udp://127.0.0.1", "127.0.0.1:514", "udp://127.0.0.1:99999", "udp://127.0.0.1:514/x"} {
		_, err := Send(context.Background(), strings.NewReader("x\n"), target, 100)
		if !errors.Is(err, ErrBadTarget) {
			t.Errorf("Send to %s: err = %v, want ErrBadTarget", target, err)
		}
	}
	for target, want := range map[string]string{
		"udp://127.0.0.1:5140": "127.0.0.1:5140",
		"udp://localhost:514":  "127.0.0.1:514",
		"udp://[::1]:514":      "[::1]:514",
		"udp://127.8.9.10:514": "127.8.9.10:514",
	} {
		ap, err := ParseTarget(target)
		if err != nil || ap.String() != want {
			t.Errorf("ParseTarget(%s) = %v, %v; want %s", target, ap, err, want)
		}
	}
}

func TestSendDelivers(t *testing.T) {
	pc, err := listenUDP(t)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var in strings.Builder
	for i := range n {
		in.WriteString("<166>line ")
		in.WriteString(strings.Repeat("x", i%7))
		in.WriteString("\n")
		if i%50 == 0 {
			in.WriteString("\n") // empty lines are skipped
		}
	}
	// Read while sending: a loopback socket buffer holds only a few hundred datagrams.
	if err := pc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := make(chan []string, 1)
	go func() {
		var out []string
		buf := make([]byte, 2048)
		for range n {
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			out = append(out, string(buf[:k]))
		}
		got <- out
	}()
	target := "udp://" + pc.LocalAddr().String()
	sent, err := Send(context.Background(), strings.NewReader(in.String()), target, 5000)
	if err != nil || sent != n {
		t.Fatalf("Send = %d, %v; want %d", sent, err, n)
	}
	recv := <-got
	if len(recv) != n {
		t.Fatalf("received %d of %d datagrams", len(recv), n)
	}
	for i, g := range recv {
		if want := "<166>line " + strings.Repeat("x", i%7); g != want {
			t.Fatalf("datagram %d = %q, want %q", i, g, want)
		}
	}
}

// SendLines sends count datagrams, taking the lines in turn and starting over.
func TestSendLinesRepeats(t *testing.T) {
	pc, err := listenUDP(t)
	if err != nil {
		t.Fatal(err)
	}
	lines := [][]byte{[]byte("<166>a"), []byte("<166>bb"), []byte("<166>ccc")}
	const n = 500
	if err := pc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := make(chan []string, 1)
	go func() {
		var out []string
		buf := make([]byte, 2048)
		for range n {
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			out = append(out, string(buf[:k]))
		}
		got <- out
	}()
	sent, err := SendLines(context.Background(), lines, "udp://"+pc.LocalAddr().String(), 20000, n)
	if err != nil || sent != n {
		t.Fatalf("SendLines = %d, %v; want %d", sent, err, n)
	}
	recv := <-got
	if len(recv) != n {
		t.Fatalf("received %d of %d datagrams", len(recv), n)
	}
	for i, g := range recv {
		if want := string(lines[i%len(lines)]); g != want {
			t.Fatalf("datagram %d = %q, want %q", i, g, want)
		}
	}
}

func TestSendStopsOnContext(t *testing.T) {
	pc, err := listenUDP(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// An endless reader at 1000 lines/s: Send must stop when ctx is cancelled, after the reader
	// has handed out a bounded number of lines.
	r := &endless{onRead: func(n int) {
		if n == 50 {
			cancel()
		}
	}}
	sent, err := Send(ctx, r, "udp://"+pc.LocalAddr().String(), 1000)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if sent < 50 || sent > 80 {
		t.Errorf("sent %d lines, want about 50", sent)
	}
}

// endless yields "line\n" forever, one per Read.
type endless struct {
	n      int
	onRead func(n int)
}

func (e *endless) Read(p []byte) (int, error) {
	e.n++
	e.onRead(e.n)
	return copy(p, "line\n"), nil
}

func TestDeviceAddrsArePlanned(t *testing.T) {
	for i, a := range deviceAddrs {
		if !netip.MustParsePrefix("10.10.0.0/24").Contains(a) {
			t.Errorf("device %s at %s is outside the management network", deviceNames[i], a)
		}
	}
}

func listenUDP(t *testing.T) (net.PacketConn, error) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { pc.Close() })
	// Room for a few thousand datagrams, so a reader goroutine starved on a busy machine loses
	// nothing (the kernel may cap it at net.core.rmem_max).
	if err := pc.(*net.UDPConn).SetReadBuffer(4 << 20); err != nil {
		return nil, err
	}
	return pc, nil
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	f, err := WriteDir(context.Background(), Config{Seed: 4, Days: 2, LinesPerDay: 3000}, dir)
	if err != nil {
		t.Fatal(err)
	}
	asa, err := os.ReadFile(f.ASA)
	if err != nil {
		t.Fatal(err)
	}
	if n := int64(bytes.Count(asa, []byte{'\n'})); n != f.Result.Lines[0] || n == 0 {
		t.Errorf("%s has %d lines, truth says %d", f.ASA, n, f.Result.Lines[0])
	}
	js, err := os.ReadFile(f.Truth)
	if err != nil {
		t.Fatal(err)
	}
	var back Truth
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Incidents) != 10 || back.Incidents[0].Hosts[0] != f.Result.Incidents[0].Hosts[0] || !back.Start.Equal(f.Result.Start) {
		t.Errorf("truth.json does not round-trip: %+v", back)
	}
	pol, err := os.ReadFile(f.Policy)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := DefaultSite().Policy()
	if !bytes.Equal(pol, want) {
		t.Error("site.yaml is not the default site's policy")
	}
	for _, p := range []string{f.ASA, f.Routers, f.Truth, f.Policy} {
		if filepath.Dir(p) != dir {
			t.Errorf("%s is not in %s", p, dir)
		}
	}
}

// TestCombinedStream checks Writers.All: the same lines as the two files, interleaved in time
// order, fed through a pipe to Send the way `firebreak gen --send` does.
func TestCombinedStream(t *testing.T) {
	cfg := Config{Seed: 9, Days: 1, LinesPerDay: 1500}
	var asa, rtr, all bytes.Buffer
	if _, err := Generate(context.Background(), cfg, Writers{ASA: &asa, Routers: &rtr}); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), cfg, Writers{All: &all}); err != nil {
		t.Fatal(err)
	}
	var fromAll [2][]string
	for _, line := range strings.SplitAfter(all.String(), "\n") {
		if line == "" {
			continue
		}
		fam := 0
		if strings.Contains(line, "%SEC-") {
			fam = 1
		}
		fromAll[fam] = append(fromAll[fam], line)
	}
	if strings.Join(fromAll[0], "") != asa.String() || strings.Join(fromAll[1], "") != rtr.String() {
		t.Fatal("the combined stream does not hold the same lines as the two files")
	}

	// Generate into a pipe and replay it: every line arrives, in the stream's order.
	small := Site{Name: "tiny", Timezone: "UTC", DomainControllers: 2, PrintServers: 1, TerminalServers: 1,
		AppServers: 2, VMHosts: 1, SANArrays: 1, Printers: 3, VendorPrinters: 1,
		Workstations: [3]int{12, 12, 12}, VPNUsers: 4}
	cfg = Config{Seed: 9, Days: 1, LinesPerDay: 200, Site: small}
	var want bytes.Buffer
	truth, err := Generate(context.Background(), cfg, Writers{All: &want})
	if err != nil {
		t.Fatal(err)
	}
	n := int(truth.Lines[0] + truth.Lines[1])
	pc, err := listenUDP(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := make(chan []string, 1)
	go func() {
		var out []string
		buf := make([]byte, 4096)
		for range n {
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			out = append(out, string(buf[:k])+"\n")
		}
		got <- out
	}()
	pr, pw := io.Pipe()
	go func() {
		_, err := Generate(context.Background(), cfg, Writers{All: pw})
		pw.CloseWithError(err) // nil: Send sees the end of the stream
	}()
	sent, err := Send(context.Background(), pr, "udp://"+pc.LocalAddr().String(), 5000)
	if err != nil || sent != n {
		t.Fatalf("Send = %d, %v; want %d lines", sent, err, n)
	}
	if recv := strings.Join(<-got, ""); recv != want.String() {
		t.Errorf("received %d bytes, want the %d bytes of the stream", len(recv), want.Len())
	}
}
