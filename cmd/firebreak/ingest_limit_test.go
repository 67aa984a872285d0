package main

import (
	"runtime/debug"
	"testing"
)

func TestIngestMemoryLimitSetAndRestored(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	prev := debug.SetMemoryLimit(-1)
	restore := setIngestMemoryLimit(123)
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Fatalf("limit during ingest = %d, want %d", got, 123<<20)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != prev {
		t.Fatalf("limit after ingest = %d, want the previous %d", got, prev)
	}
	setIngestMemoryLimit(0)()
	if got := debug.SetMemoryLimit(-1); got != prev {
		t.Fatalf("--memory-limit 0 changed the limit to %d", got)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	setIngestMemoryLimit(123)
	if got := debug.SetMemoryLimit(-1); got != prev {
		t.Fatalf("GOMEMLIMIT set, yet the limit became %d", got)
	}
}

func TestRaisedLimitLeavesRoomAboveTheLiveHeap(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct{ limit, live, want int64 }{
		{400 * mib, 100 * mib, 400 * mib},
		{400 * mib, 300 * mib, 400 * mib},
		{400 * mib, 301 * mib, 602 * mib}, // past 3/4: the GC would run back to back
		{400 * mib, 900 * mib, 1800 * mib},
	} {
		if got := raisedLimit(c.limit, c.live); got != c.want {
			t.Errorf("raisedLimit(%d MiB, live %d MiB) = %d MiB, want %d MiB", c.limit/mib, c.live/mib, got/mib, c.want/mib)
		}
	}
}
