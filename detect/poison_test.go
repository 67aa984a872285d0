package detect

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// teardownFor is a connection of host to peer that moved bytes over dur.
func (l *logBuilder) teardownFor(t time.Time, host, peer netip.Addr, bytes uint64, dur time.Duration) {
	l.id++
	cport := 40000 + l.id%20000
	l.hdr(t, "asa1", 166)
	fmt.Fprintf(&l.b, "%%ASA-6-302013: Built outbound TCP connection %d for outside:%s/443 (%s/443) to inside:%s/%d (203.0.113.1/%d)\n",
		l.id, peer, peer, host, cport, cport)
	l.hdr(t.Add(dur), "asa1", 166)
	h, m, s := int(dur.Hours()), int(dur.Minutes())%60, int(dur.Seconds())%60
	fmt.Fprintf(&l.b, "%%ASA-6-302014: Teardown TCP connection %d for outside:%s/443 to inside:%s/%d duration %d:%02d:%02d bytes %d\n",
		l.id, peer, host, cport, h, m, s, bytes)
}

// TestBaselinePoisoningByBackdatedLines: after nine days of normal traffic, 296 forged lines
// dated over those nine days arrive (the device's clock is already on day ten) claiming large
// transfers in the working hours; then a real 12 GB transfer happens. The back-dated lines
// are counted as late and kept out of the statistics, so the volume finding still fires.
func TestBaselinePoisoningByBackdatedLines(t *testing.T) {
	const mb = 1_000_000
	var l logBuilder
	for d := range 9 {
		for h := 8; h < 18; h++ {
			l.conn(monday.AddDate(0, 0, d).Add(time.Duration(h)*hourDur+time.Minute), "tcp", wsB1, cdn, 443, 10*mb)
		}
	}
	judged := monday.AddDate(0, 0, 9)
	l.conn(judged.Add(8*hourDur+time.Minute), "tcp", wsB1, cdn, 443, 10*mb)
	// The forgery: 296 lines, each a plausible 1.3 GB over ten minutes, back-dated.
	for i := range 296 {
		d, h := i%9, 9+(i/9)%9
		at := monday.AddDate(0, 0, d).Add(time.Duration(h)*hourDur + time.Duration(i%50)*time.Minute/50)
		l.teardownFor(at, wsB1, cdn, 1_300*mb, 10*time.Minute)
	}
	// The real exfiltration: 12 GB over two hours from 09:05.
	l.teardownFor(judged.Add(9*hourDur+5*time.Minute), wsB1, drop, 12_000*mb, 2*time.Hour)
	for h := 12; h < 18; h++ {
		l.conn(judged.Add(time.Duration(h)*hourDur+time.Minute), "tcp", wsB1, cdn, 443, 10*mb)
	}
	at := judged.AddDate(0, 0, 1)
	env := handEnv(t, at, &l)
	var host *Finding
	fs := runDetector(t, env, VolumeDetector{}, at, 24*time.Hour)
	for i := range fs {
		if fs[i].Subject.Host == wsB1 {
			host = &fs[i]
		}
	}
	if host == nil {
		t.Fatalf("no volume finding for %v's 12 GB after 296 back-dated lines (findings %v)", wsB1, fs)
	}
	if len(host.Evidence.TopPeers) == 0 || host.Evidence.TopPeers[0].Key != drop.String() {
		t.Errorf("top peers %v; want %s first", host.Evidence.TopPeers, drop)
	}
	t.Logf("finding %s: %s", host.Key, host.Evidence.Summary)
}
