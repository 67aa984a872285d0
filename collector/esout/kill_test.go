package esout_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"testing"
)

// TestKill9MidStream: a child process queues events and sends them; it is killed with
// SIGKILL while a bulk request is in flight (the server holds it); a new output on the same
// queue then delivers the rest, and every event is stored exactly once by id.
func TestKill9MidStream(t *testing.T) {
	const n = 4000
	if dir := os.Getenv("FIREBREAK_ESOUT_CHILD_DIR"); dir != "" {
		o := newOutput(t, dir, testOutput(os.Getenv("FIREBREAK_ESOUT_CHILD_URL"), 64<<20, 16<<10))
		ctx := context.Background()
		errc := make(chan error, 1)
		go func() { errc <- o.Run(ctx) }()
		addEvents(o, 0, n)
		if err := o.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("queued\n")
		t.Fatal(<-errc) // runs until killed
	}
	s := newBulkServer(t, testStreams.ASA)
	gate := make(chan struct{})
	held := make(chan struct{})
	s.mu.Lock()
	s.hold = func(stored int) bool { return stored >= n/4 }
	s.gate, s.held = gate, held
	s.mu.Unlock()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9MidStream$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FIREBREAK_ESOUT_CHILD_DIR="+dir, "FIREBREAK_ESOUT_CHILD_URL="+s.URL())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "queued\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	<-held // a request is in flight and the server sits on it
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	stored, _ := s.stored()
	if len(stored) >= n {
		t.Fatalf("the child delivered everything (%d) before the kill", len(stored))
	}
	t.Logf("killed with %d of %d stored", len(stored), n)
	s.mu.Lock()
	s.hold = nil
	s.mu.Unlock()
	close(gate) // the held request goes on, its answer to a dead client

	o := newOutput(t, dir, testOutput(s.URL(), 64<<20, 16<<10))
	want := addEvents(o, 0, 0)
	for id, d := range expected(n) {
		want[id] = d
	}
	stop := run(t, o)
	waitStored(t, s, n)
	waitAcked(t, o)
	stop()
	checkExactlyOnce(t, s, want)
}
