package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/firebreak-dev/firebreak/cmd/firebreak/internal/forward"
)

// helperArgsEnv makes the test binary the firebreak CLI: TestHelperCLI runs
// the JSON argument list it holds and exits with the command's status. The
// people test runs it as other OS users.
const helperArgsEnv = "FIREBREAK_HELPER_CLI_ARGS"

func TestHelperCLI(t *testing.T) {
	raw := os.Getenv(helperArgsEnv)
	if raw == "" {
		t.Skip("runs only as the CLI of TestAdminsApproveAsThemselvesThroughTheDaemon")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(run(t.Context(), args, strings.NewReader(""), os.Stdout, os.Stderr))
}

// The daemon's socket with people.admin_group is 0660 with that group; each
// admin runs the CLI under their own account and the daemon names them from
// the kernel. approvers, proposer_cannot_approve and two_person hold through
// the daemon: a user not listed and the proposer are refused, a block under
// two_person waits for a second approver and is not pushed before, and the
// audit log names each user.
func TestAdminsApproveAsThemselvesThroughTheDaemon(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the admins run as other users")
	}
	grp, err := user.LookupGroup("staff")
	if err != nil {
		t.Skipf("no group to test with: %v", err)
	}
	gid, _ := strconv.Atoi(grp.Gid)
	var admins []*user.User
	for _, n := range []string{"daemon", "bin", "sys"} {
		u, err := user.Lookup(n)
		if err != nil {
			t.Skipf("no user %s to test with: %v", n, err)
		}
		admins = append(admins, u)
	}
	srv, dir, _ := cliRig(t, `collector: {udp_listen: 127.0.0.1:0, tcp_listen: "off", http_listen: "off", data_dir: data}
people:
  admin_group: staff
  approvers: [daemon, bin, root]
  proposer_cannot_approve: true
  two_person: [block]
`)
	policy := filepath.Join(dir, "site.yaml")
	// The packaging's layout: the policy readable by the admins, the data folder 0750
	// with their group; the test's own folders searchable.
	top := filepath.Clean(os.TempDir())
	for d := dir; strings.HasPrefix(d, top+string(filepath.Separator)); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(policy, 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, 0, gid); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "firebreak.test")
	if err := copyExe(exe, bin); err != nil {
		t.Fatal(err)
	}
	as := func(u *user.User, args ...string) (int, string) {
		t.Helper()
		uid, _ := strconv.Atoi(u.Uid)
		ugid, _ := strconv.Atoi(u.Gid)
		raw, _ := json.Marshal(args)
		cmd := exec.CommandContext(t.Context(), bin, "-test.run=^TestHelperCLI$")
		cmd.Env = []string{helperArgsEnv + "=" + string(raw)}
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(ugid), Groups: []uint32{uint32(gid)}}}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("run as %s: %v", u.Username, err)
		}
		return code, string(out)
	}

	stop := startServe(t, dir, policy)
	fi, err := os.Stat(filepath.Join(data, "firebreak.sock"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o660 || int(st.Gid) != gid {
		t.Fatalf("socket mode %v gid %d, want 0660 and group staff (%d)", fi.Mode().Perm(), st.Gid, gid)
	}
	// root proposes (through the daemon: it holds the database).
	stdin := `{"id":"f1","key":"port_scan|203.0.113.7","detector":"port_scan","severity":"low","subject":{"peer":"203.0.113.7"},"status":"open"}`
	if code, out, errOut := runCLI(t, stdin, "propose", "--config", policy, "--findings", "-"); code != 0 || !strings.Contains(out, "p-0001") {
		t.Fatalf("propose: %d %s %s", code, out, errOut)
	}
	daemonU, binU, sysU := admins[0], admins[1], admins[2]
	if code, out := as(sysU, "proposals", "approve", "p-0001", "--config", policy); code == 0 || !strings.Contains(out, "sys may not approve block proposals (people.approvers: daemon, bin, root)") {
		t.Errorf("approve as sys: exit %d\n%s", code, out)
	}
	if code, out, errOut := runCLI(t, "", "proposals", "approve", "p-0001", "--config", policy); code == 0 || !strings.Contains(errOut, "root proposed p-0001 (people.proposer_cannot_approve)") {
		t.Errorf("approve as the proposer: exit %d\n%s%s", code, out, errOut)
	}
	code, out := as(daemonU, "proposals", "diff", "p-0001", "--config", policy)
	if code != 0 || !strings.Contains(out, "# plan digest ") {
		t.Fatalf("diff as daemon: exit %d\n%s", code, out)
	}
	digest := strings.Fields(out[strings.Index(out, "# plan digest "):])[3]
	if code, out := as(daemonU, "proposals", "approve", "p-0001", "--config", policy, "--digest", digest[:16]); code != 0 || !strings.Contains(out, "p-0001: 1 of 2 approvals (daemon); a second, different approver must approve digest "+digest[:16]) {
		t.Fatalf("approve as daemon: exit %d\n%s", code, out)
	}
	if code, out := as(daemonU, "proposals", "push", "p-0001", "--config", policy); code == 0 || !strings.Contains(out, "1 of 2 approvals (daemon)") {
		t.Errorf("push with one approval: exit %d\n%s", code, out)
	}
	if strings.Contains(srv.Running(), "203.0.113.7") {
		t.Fatal("pushed with one approval")
	}
	if code, out := as(daemonU, "proposals", "list", "--config", policy); code != 0 || !strings.Contains(out, "1 of 2 approvals (daemon)") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if code, out := as(binU, "proposals", "approve", "p-0001", "--config", policy, "--digest", digest); code != 0 || !strings.Contains(out, "p-0001 approved by daemon, bin") {
		t.Fatalf("approve as bin: exit %d\n%s", code, out)
	}
	if code, out := as(binU, "proposals", "push", "p-0001", "--config", policy); code != 0 || !strings.Contains(out, "p-0001 applied") {
		t.Fatalf("push as bin: exit %d\n%s", code, out)
	}
	if !strings.Contains(srv.Running(), "deny ip host 203.0.113.7 any time-range FIREBREAK-p-0001") {
		t.Errorf("not on the device:\n%s", srv.Running())
	}
	// Inside the daemon an admin touches only the files their own account could.
	private := filepath.Join(dir, "root-only")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(private, "asa.cfg"), proposalsASA)
	write(t, filepath.Join(dir, "asa.cfg"), proposalsASA)
	if err := os.Chmod(filepath.Join(dir, "asa.cfg"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := as(sysU, "proposals", "diff", "p-0001", "--config", policy, "--running", filepath.Join(private, "asa.cfg")); code == 0 ||
		!strings.Contains(out, "refused: sys: "+filepath.Join(private, "asa.cfg")+": permission denied (folder "+private+")") {
		t.Errorf("diff of a file sys cannot read: exit %d\n%s", code, out)
	}
	if code, out := as(sysU, "proposals", "diff", "p-0001", "--config", policy, "--running", "asa.cfg"); code != 0 || !strings.Contains(out, "# plan digest ") {
		t.Errorf("diff of a file sys can read: exit %d\n%s", code, out)
	}
	if code, out := as(sysU, "report", "--config", policy, "--out", filepath.Join("data", "r.html")); code == 0 || !strings.Contains(out, "permission denied (folder "+data+")") {
		t.Errorf("report into the daemon's folder: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(data, "r.html")); err == nil {
		t.Error("the daemon wrote a file for sys where sys may not")
	}
	code, out = as(sysU, "proposals", "show", "p-0001", "--config", policy)
	if code != 0 || !strings.Contains(out, "approved   by daemon, bin at ") || !strings.Contains(out, "digest     "+digest) {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	var who []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 4 && f[0] != "" && strings.HasPrefix(l, "  ") && strings.Contains(l, "→") {
			who = append(who, f[2]+":"+f[3])
		}
	}
	if want := "root:propose sys:approve-refused root:approve-refused daemon:approve-partial daemon:push-refused bin:approve bin:push"; strings.Join(who, " ") != want {
		t.Errorf("audit %q, want %q\n%s", strings.Join(who, " "), want, out)
	}
	stop()
}

func copyExe(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Commands that never need the daemon are not run inside it for other users.
func TestPeerMayNotRunLocalCommandsInTheDaemon(t *testing.T) {
	a := &app{stdout: io.Discard, stderr: io.Discard}
	for _, args := range [][]string{{"serve"}, {"policy", "check", "/etc/shadow"}, {"db", "restore", "x.db"}, {"gen", "--out", "/tmp/x"}} {
		err := a.checkPeer(forward.Request{Args: args, UID: 4242, GIDs: []uint32{4242}, User: "mallory", Cwd: "/"})
		if err == nil || !strings.Contains(err.Error(), "mallory may not run") {
			t.Errorf("%q: %v", args, err)
		}
	}
	if err := a.checkPeer(forward.Request{Args: []string{"policy", "check", "x"}, UID: os.Geteuid(), User: "me"}); err != nil {
		t.Errorf("the daemon's own user: %v", err)
	}
	if err := a.checkPeer(forward.Request{Args: []string{"ingest", "/etc/shadow"}, UID: 4242, GIDs: []uint32{4242}, User: "mallory", Cwd: "/"}); err == nil ||
		!strings.Contains(err.Error(), "mallory: /etc/shadow: permission denied") {
		t.Errorf("ingest of a file mallory cannot read: %v", err)
	}
}
