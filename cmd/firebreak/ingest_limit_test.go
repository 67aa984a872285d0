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
