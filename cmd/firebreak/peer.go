package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/firebreak-dev/firebreak/cmd/firebreak/internal/forward"
)

// With people.admin_group, other users run commands inside the daemon, which
// reads and writes files with its own rights. A forwarded command of a user
// other than root and the daemon's own user may therefore touch only files
// that user could touch (by the permission bits of the file and the folders
// on its way), and may not run the commands that never need the daemon.

// peerRefused are the commands other users may not run through the socket:
// they do not use the database, and they read or write files.
var peerRefused = []string{"serve", "demo", "gen", "parse", "policy", "db restore"}

// pathFlags are the flags that name files, read or written.
var pathFlags = map[string]bool{"running": false, "findings": false, "site": false, "out": true, "kibana-out": true, "dir": true}

// pathArgs are the commands whose arguments are files, read or written.
var pathArgs = map[string]bool{"ingest": false, "db backup": true}

// checkPeer refuses req for a user other than root and the daemon's, when it
// names a command in peerRefused or a file the user may not access.
func (a *app) checkPeer(req forward.Request) error {
	if req.UID == 0 || req.UID == os.Geteuid() {
		return nil
	}
	root := a.rootCmd()
	cmd, rest, err := root.Find(req.Args)
	if err != nil || cmd == root {
		return nil // the command line is wrong: execute says so
	}
	name := strings.TrimPrefix(cmd.CommandPath(), root.Name()+" ")
	for _, r := range peerRefused {
		if name == r || strings.HasPrefix(name, r+" ") {
			return fmt.Errorf("%s may not run %q inside the daemon: run it without the daemon's socket", req.User, name)
		}
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return nil
	}
	acc, err := accessOf(req.UID, req.GIDs)
	if err != nil {
		return err
	}
	check := func(p string, write bool) error {
		if p == "" || p == "-" {
			return nil
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(req.Cwd, p)
		}
		if err := acc.may(p, write); err != nil {
			return fmt.Errorf("%s: %w", req.User, err)
		}
		return nil
	}
	var errs []error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if write, ok := pathFlags[f.Name]; ok {
			errs = append(errs, check(f.Value.String(), write))
		}
	})
	if write, ok := pathArgs[name]; ok {
		for _, p := range cmd.Flags().Args() {
			errs = append(errs, check(p, write))
		}
	}
	return errors.Join(errs...)
}

// access is a user and their groups, for permission checks on its behalf.
type access struct {
	uid  uint32
	gids []uint32
}

// accessOf is uid with the groups the kernel gave (SO_PEERGROUPS), or its
// groups in the user database when there are none.
func accessOf(uid int, gids []uint32) (access, error) {
	acc := access{uid: uint32(uid), gids: gids}
	if gids != nil {
		return acc, nil
	}
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return acc, fmt.Errorf("caller uid %d: %w", uid, err)
	}
	ids, err := u.GroupIds()
	if err != nil {
		return acc, fmt.Errorf("groups of %s: %w", u.Username, err)
	}
	for _, s := range append(ids, u.Gid) {
		if g, err := strconv.ParseUint(s, 10, 32); err == nil {
			acc.gids = append(acc.gids, uint32(g))
		}
	}
	return acc, nil
}

// bits reports whether the user has all of want (r=4, w=2, x=1) on fi.
func (a access) bits(fi fs.FileInfo, want fs.FileMode) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	m := fi.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return (m>>6)&want == want
	case slices.Contains(a.gids, st.Gid):
		return (m>>3)&want == want
	default:
		return m&want == want
	}
}

// may reports whether the user could read (or write) path: every folder on
// the way searchable; the file readable (writable); a file to be created in a
// folder the user may write.
func (a access) may(path string, write bool) error {
	dir, file := filepath.Split(filepath.Clean(path))
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for d := real; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if !a.bits(fi, 0o1) {
			return fmt.Errorf("%s: %w (folder %s)", path, fs.ErrPermission, d)
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	target := filepath.Join(real, file)
	fi, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist) && write:
		dfi, err := os.Stat(real)
		if err != nil || !a.bits(dfi, 0o3) {
			return fmt.Errorf("%s: %w (folder %s)", path, fs.ErrPermission, real)
		}
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", path, err)
	}
	want := fs.FileMode(0o4)
	if write {
		want = 0o2
	}
	if fi.IsDir() {
		want |= 0o1
	}
	if !a.bits(fi, want) {
		return fmt.Errorf("%s: %w", path, fs.ErrPermission)
	}
	return nil
}
