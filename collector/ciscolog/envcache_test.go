package ciscolog

import (
	"testing"
	"time"
)

// TestEnvelopeCache checks that a long-lived Parser (which reuses the envelopes it has read)
// gives every frame the event a fresh Parser gives it, while the clock moves across a year
// end, hosts in different zones share stamps, and envelopes differ by one byte.
func TestEnvelopeCache(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	zone := func(host string) *time.Location {
		switch host {
		case "fw-b":
			return berlin
		case "fw-t":
			return time.FixedZone("JST", 9*3600)
		}
		return nil
	}
	frames := []string{
		"<166>Dec 31 23:59:59 fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Dec 31 23:59:59 fw-b %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Dec 31 23:59:59 fw-t %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Dec 31 23:59:58 fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Jan  1 00:00:01 fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Jan  1 00:00:01 fw-b %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Jan  1 00:00:01 CET fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Feb  1 00:00:00 fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Mar  2 00:00:00 fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Mar  2 00:00:00 fw-t %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Feb  1 00:00:00 fw-b %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"Dec 31 2026 23:59:59 fw-b : %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"Dec 31 2026 23:59:59 fw-a : %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>fw-b %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Dec 31 23:59:59 fw-a %ASA-6-106023: Deny tcp src o:1.2.3.4/1 dst i:10.0.0.1/2 by access-group \"x\"",
		"<190>12: fw-a: *Dec 31 23:59:59.123: %SEC-6-IPACCESSLOGP: list 1 denied tcp 1.2.3.4(1) -> 10.0.0.1(2), 1 packet",
		// IOS envelopes that differ only in their sequence numbers and milliseconds share an
		// entry: each must still get its own sequence number and time.
		"<190>13: fw-a: *Dec 31 23:59:59.999: %SEC-6-IPACCESSLOGP: list 1 denied tcp 1.2.3.4(1) -> 10.0.0.1(2), 1 packet",
		"<190>99: fw-a: *Dec 31 23:59:59.000: %SEC-6-IPACCESSLOGP: list 1 denied tcp 1.2.3.4(1) -> 10.0.0.1(2), 1 packet",
		"<190>9999999999: fw-a: *Dec 31 23:59:59.5: %SEC-6-IPACCESSLOGP: list 1 denied tcp 1.2.3.4(1) -> 10.0.0.1(2), 1 packet",
		"<190>4294967295: fw-a: *Dec 31 23:59:59.6: %SEC-6-IPACCESSLOGP: list 1 denied tcp 1.2.3.4(1) -> 10.0.0.1(2), 1 packet",
		"<190>000123: 000124: fw-b: Mar  2 00:00:00.250: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>000125: 000126: fw-b: Mar  2 00:00:00.750: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>000125: 9999999999: fw-b: Mar  2 00:00:00.750: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>000125: 000126: fw-a: Mar  2 00:00:00.250: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>000125: 000126: fw-a: Mar  2 00:00:00.750: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>000127: 000128: fw-a: Mar  2 00:00:00.7500000001: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>000127: 000128: fw-a: Mar  2 00:00:00.x: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>000127: 000128: fw-a: Mar  2 2027 00:00:00.125 UTC: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>000127: 000128: fw-a: Mar  2 2027 00:00:00.875 UTC: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>1: 2: 3: 4: fw-a: Mar  2 2027 00:00:00.875 UTC: %SYS-5-CONFIG_I: Configured from console by console",
		"<190>1: 2: 3: 5: fw-a: Mar  2 2027 00:00:00.875 UTC: %SYS-5-CONFIG_I: Configured from console by console",
		// Other seconds of a cached minute share its entry (the seconds are masked), a leap
		// second included; out-of-range seconds are no stamp, as scan reads them.
		"<166>Dec 31 23:59:00 fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Dec 31 23:59:60 fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Dec 31 23:59:61 fw-a %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<166>Dec 31 23:59:99 fw-b %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"Dec 31 2026 23:59:07 fw-b : %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"Dec 31 2026 23:59:60 fw-b : %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9",
		"<190>13: fw-a: *Dec 31 23:59:07.999: %SEC-6-IPACCESSLOGP: list 1 denied tcp 1.2.3.4(1) -> 10.0.0.1(2), 1 packet",
		"<190>13: fw-a: *Dec 31 23:59:77.999: %SEC-6-IPACCESSLOGP: list 1 denied tcp 1.2.3.4(1) -> 10.0.0.1(2), 1 packet",
		// A number glued to a clock is read as a sequence number when the clock is no stamp;
		// its digits must not be masked: other digits make a stamp (found by the fuzzer).
		"<189>000124: *Dec 31 23:59:99: *Dec .: %SYS-5-RESTART: System restarted --",
		"<189>000124: *Dec 31 23:59:54: *Dec .: %SYS-5-RESTART: System restarted --",
		"<189>12:34:56: %SYS-5-RESTART: System restarted --",
		"<189>99:34:56: %SYS-5-RESTART: System restarted --",
	}
	// Clock readings around the year end, going back once, and on either side of the day
	// when a Mar 2 stamp stops being more than 31 days ahead (Jan 30).
	clocks := []time.Time{
		time.Date(2026, 12, 31, 22, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2027, 1, 30, 0, 0, 1, 0, time.UTC),
		time.Date(2027, 1, 29, 23, 0, 0, 0, time.UTC),
		// Between the 31-day limits of a Mar 2 00:00:00.250 and a .750 stamp (in UTC, and in
		// Berlin for fw-b): the milliseconds decide the year.
		time.Date(2027, 1, 30, 0, 0, 0, 500e6, time.UTC),
		time.Date(2027, 1, 29, 23, 0, 0, 500e6, time.UTC),
	}
	var now time.Time
	clock := func() time.Time { return now }
	long := NewParser(Options{Now: clock, Zone: zone})
	check := func(f string) {
		t.Helper()
		var got, want Event
		long.ParseString(f, &got)
		fresh := NewParser(Options{Now: clock, Zone: zone})
		fresh.ParseString(f, &want)
		want.Time = uncachedTime(fresh, f)
		if got != want {
			t.Fatalf("clock %v, frame %q:\ncached %+v\nwant   %+v", now, f, got, want)
		}
	}
	// One frame across every clock reading (the entry stays cached while the clock moves),
	// then all frames at each reading, twice and in both orders (hits and misses alternate).
	for _, f := range frames {
		for _, c := range clocks {
			now = c
			check(f)
		}
	}
	for _, c := range clocks {
		now = c
		for i := range frames {
			check(frames[i])
			check(frames[i])
			check(frames[len(frames)-1-i])
		}
	}
}

// uncachedTime is the frame's time as the Parser computes it without its envelope cache.
func uncachedTime(p *Parser, frame string) time.Time {
	s := trimRight(frame)
	tg, _ := findTag(s)
	var h header
	h.scan(s[:tg.start], false)
	if !h.hasStamp {
		return time.Time{}
	}
	return p.resolve(&h.st, p.location(h.host, h.st.zone))
}

// TestEnvelopeCacheHostAlias checks that a cached envelope's host aliases the new frame, not
// the frame it was first read from.
func TestEnvelopeCacheHostAlias(t *testing.T) {
	p := newTestParser()
	a := []byte("<166>Mar  3 08:15:02 fw-clinic %ASA-6-302016: Teardown UDP connection 1 for o:1.2.3.4/53 to i:10.0.0.1/5353 duration 0:00:01 bytes 9")
	b := append([]byte(nil), a...)
	var ev Event
	p.Parse(a, &ev)
	p.Parse(b, &ev)
	if off, ok := within(ev.Raw, ev.Host); !ok || ev.Host != "fw-clinic" || off != len("<166>Mar  3 08:15:02 ") {
		t.Fatalf("Host %q does not alias the second frame", ev.Host)
	}
	copy(a, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
	if ev.Host != "fw-clinic" {
		t.Fatalf("Host %q changed with the first frame", ev.Host)
	}
}

// TestEnvelopeCacheIOSKey checks that IOS envelopes that differ only in their sequence numbers
// and milliseconds share an entry, and that any other difference does not.
func TestEnvelopeCacheIOSKey(t *testing.T) {
	p := newTestParser()
	var ev Event
	p.ParseString("<190>120332: rtr-a: *Mar  3 10:00:02.234 CET: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up", &ev)
	for env, hit := range map[string]bool{
		"<190>120332: rtr-a: *Mar  3 10:00:02.234 CET: ": true,
		"<190>999999: rtr-a: *Mar  3 10:00:02.999 CET: ": true,
		"<190>000000: rtr-a: *Mar  3 10:00:02.000 CET: ": true,
		"<190>1203321: rtr-a: *Mar  3 10:00:02.23 CET: ": false, // runs of other lengths
		"<190>120332: rtr-a: *Mar  3 10:00:03.234 CET: ": true,  // another second: masked too
		"<190>120332: rtr-a: *Mar  3 10:00:59.234 CET: ": true,
		"<190>120332: rtr-a: *Mar  3 10:01:02.234 CET: ": false, // another minute
		"<190>120332: rtr-a: *Mar  3 10:00:0x.234 CET: ": false,
		"<190>120332: rtr-b: *Mar  3 10:00:02.234 CET: ": false,
		"<190>12033x: rtr-a: *Mar  3 10:00:02.234 CET: ": false,
		"<190>120332: rtr-a: *Mar  3 10:00:02.2x4 CET: ": false,
		"<191>120332: rtr-a: *Mar  3 10:00:02.234 CET: ": false,
	} {
		if got := p.env.lookup(env) != nil; got != hit {
			t.Errorf("lookup(%q) hit = %v, want %v", env, got, hit)
		}
	}
}
