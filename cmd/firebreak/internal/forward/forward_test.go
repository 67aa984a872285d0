package forward

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

func TestCallRunsInDaemonWithPeerIdentity(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "fb.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, func(ctx context.Context, req Request, stdin io.Reader, stdout, stderr io.Writer) int {
			in, _ := io.ReadAll(stdin)
			fmt.Fprintf(stdout, "args=%s user=%s stdin=%s", strings.Join(req.Args, ","), req.User, in)
			fmt.Fprint(stderr, strings.Repeat("e", 3<<20)) // larger than one frame
			return 3
		}, slog.New(slog.DiscardHandler))
	}()
	var out, errb bytes.Buffer
	code, err := Call(t.Context(), sock, []string{"findings", "list"}, strings.NewReader("piped"), &out, &errb)
	if err != nil {
		t.Fatal(err)
	}
	me, _ := user.Current()
	if want := "args=findings,list user=" + me.Username + " stdin=piped"; out.String() != want {
		t.Errorf("stdout = %q, want %q", out.String(), want)
	}
	if errb.Len() != 3<<20 {
		t.Errorf("stderr has %d bytes, want %d", errb.Len(), 3<<20)
	}
	if code != 3 {
		t.Errorf("exit status = %d, want 3", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestCallWithoutDaemon(t *testing.T) {
	_, err := Call(t.Context(), filepath.Join(t.TempDir(), "none.sock"), []string{"status"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "connect to daemon") {
		t.Fatalf("Call without daemon: err = %v, want a connect error", err)
	}
}
