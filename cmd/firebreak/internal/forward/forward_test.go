package forward

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestCallRunsInDaemonWithPeerIdentity(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "fb.sock")
	ln, err := Listen(sock, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	// Bound elsewhere and renamed into place: nothing of the private folder is left.
	if ents, _ := os.ReadDir(filepath.Dir(sock)); len(ents) != 1 {
		t.Fatalf("socket folder holds %d entries, want only the socket", len(ents))
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

// helperEnv makes the test binary a client: it runs Call on the socket named by the variable
// and prints the daemon's answer (TestHelperClient). The admins' test runs it as other users.
const helperEnv = "FIREBREAK_FORWARD_HELPER_SOCKET"

func TestHelperClient(t *testing.T) {
	sock := os.Getenv(helperEnv)
	if sock == "" {
		t.Skip("runs only as the client of TestGroupSocketNamesEachAdmin")
	}
	code, err := Call(context.Background(), sock, []string{"whoami"}, nil, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stdout, "CALL ERROR:", err)
		os.Exit(7)
	}
	os.Exit(code)
}

// The socket with people.admin_group is 0660 with that group: members of the group, each
// under their own account, reach the daemon and are named by the kernel; other users are
// refused by the kernel; a group that does not exist stops Listen with a clear error.
func TestGroupSocketNamesEachAdmin(t *testing.T) {
	if _, err := Listen(filepath.Join(t.TempDir(), "x.sock"), "no-such-group-fb11", slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), `socket group "no-such-group-fb11" (people.admin_group)`) || !strings.Contains(err.Error(), "create the group or change the policy") {
		t.Fatalf("Listen with a missing group: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the clients run as other users")
	}
	grp, err := user.LookupGroup("staff")
	if err != nil {
		t.Skipf("no group to test with: %v", err)
	}
	gid64, _ := strconv.ParseUint(grp.Gid, 10, 32)
	gid := uint32(gid64)
	member, err1 := user.Lookup("daemon")
	outsider, err2 := user.Lookup("bin")
	if err1 != nil || err2 != nil {
		t.Skipf("no users to test with: %v %v", err1, err2)
	}
	// A folder every test user can search, holding a copy of this binary and the socket.
	dir := t.TempDir()
	if err := searchable(dir); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "forward.test")
	if err := copyFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	// Searchable by everyone: only the socket's own mode keeps the outsider out.
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, 0, int(gid)); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	sock := filepath.Join(data, "fb.sock")
	ln, err := Listen(sock, "staff", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o660 || st.Gid != gid || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket %v gid %d, want a 0660 socket of group staff (%d)", fi.Mode(), st.Gid, gid)
	}
	if logs.Len() != 0 {
		t.Errorf("warnings for a reachable socket: %s", logs.String())
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, func(ctx context.Context, req Request, stdin io.Reader, stdout, stderr io.Writer) int {
			fmt.Fprintf(stdout, "user=%s uid=%d staff=%v", req.User, req.UID, slices.Contains(req.GIDs, gid))
			return 0
		}, slog.New(slog.DiscardHandler))
	}()
	client := func(u *user.User, groups ...uint32) (string, error) {
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		ugid, _ := strconv.ParseUint(u.Gid, 10, 32)
		cmd := exec.CommandContext(t.Context(), bin, "-test.run=^TestHelperClient$")
		cmd.Env = []string{helperEnv + "=" + sock}
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(ugid), Groups: groups}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := client(member, gid); err != nil || !strings.HasPrefix(out, "user=daemon uid="+member.Uid+" staff=true") {
		t.Errorf("a member of the group: %v\n%s", err, out)
	}
	if out, err := client(outsider); err == nil || !strings.Contains(out, "CALL ERROR: connect to daemon") || !strings.Contains(out, "permission denied") {
		t.Errorf("a user outside the group: %v\n%s", err, out)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}

	// A socket in a folder the group cannot search is logged.
	private := filepath.Join(dir, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	ln2, err := Listen(filepath.Join(private, "fb.sock"), "staff", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln2.Close()
	if !strings.Contains(logs.String(), "cannot reach it") || !strings.Contains(logs.String(), "folder="+private) {
		t.Errorf("no warning for an unreachable socket: %q", logs.String())
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// searchable opens the test's own folders (t.TempDir is 0700, and so is its parent) to
// every user, from dir up to, not including, the system's temporary folder.
func searchable(dir string) error {
	top := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); strings.HasPrefix(d, top+string(filepath.Separator)); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}
