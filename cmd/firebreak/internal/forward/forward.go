// Package forward runs a firebreak command line inside the running daemon, so that every
// command works the same whether or not the daemon holds the database.
//
// The daemon owns the database file (one process may open it). When it runs, the CLI sends its
// arguments over a unix socket in the data folder; the daemon executes the very same command
// tree against its open database and streams standard output, standard error and the exit
// status back. The socket is mode 0600, or 0660 with the admins' group (people.admin_group),
// and the caller's identity is taken from the kernel (SO_PEERCRED), not from the request, so
// audit records name the real OS user of each admin.
//
// Wire format: the client sends one JSON Request line, then its standard input until it
// half-closes. The daemon answers with frames: one byte stream id (1 stdout, 2 stderr, 3 exit
// status), a 4-byte big-endian length, and the payload.
package forward

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// Request is what the client asks the daemon to run.
type Request struct {
	Args []string `json:"args"`
	// Cwd is the client's working directory, for resolving relative file arguments.
	Cwd string `json:"cwd"`
	// User and UID are filled in by the server from the peer credentials; values sent by the
	// client are ignored.
	User string `json:"-"`
	UID  int    `json:"-"`
	// GIDs are the caller's primary and supplementary groups as the kernel
	// has them (SO_PEERCRED, SO_PEERGROUPS); nil when the kernel does not say.
	GIDs []uint32 `json:"-"`
}

// Handler runs one forwarded command and returns its exit status. It must return when ctx ends
// (the client went away or the daemon is stopping).
type Handler func(ctx context.Context, req Request, stdin io.Reader, stdout, stderr io.Writer) int

const (
	streamStdout = 1
	streamStderr = 2
	streamExit   = 3
	maxRequest   = 1 << 20
)

// Listen creates the unix socket at path, replacing a stale one. With group empty it is mode
// 0600, for its owner only; otherwise it is mode 0660 with that OS group, so its members can
// connect (the kernel still names each of them). A group that does not exist, or that the
// process may not give the socket (a non-root daemon must be a member), is an error. A folder
// on the way that the group cannot search is logged: its members could not reach the socket.
// The socket appears at path with its final group and mode; closing the listener does not
// remove it (the caller removes path when it stops).
func Listen(path, group string, log *slog.Logger) (*net.UnixListener, error) {
	gid := -1
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return nil, fmt.Errorf("socket group %q (people.admin_group): %w; create the group or change the policy", group, err)
		}
		if gid, err = strconv.Atoi(g.Gid); err != nil {
			return nil, fmt.Errorf("socket group %q: gid %q: %w", group, g.Gid, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	// Bound in a private folder, given its group and mode there, then renamed into place:
	// the socket is never reachable at path with the umask's permissions.
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".sock-")
	if err != nil {
		return nil, fmt.Errorf("socket folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	bound := filepath.Join(tmp, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	// Its name changes below; the caller removes path when it stops.
	ln.SetUnlinkOnClose(false)
	mode := os.FileMode(0o600)
	if gid >= 0 {
		if err := os.Chown(bound, -1, gid); err != nil {
			ln.Close()
			return nil, fmt.Errorf("give socket %s to group %s: %w (the daemon's user must be a member of %s)", path, group, err, group)
		}
		mode = 0o660
	}
	if err := os.Chmod(bound, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := os.Rename(bound, path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if gid >= 0 {
		if dir := unsearchable(filepath.Dir(path), uint32(gid)); dir != "" {
			log.Warn("members of the socket's group cannot reach it: a folder on the way is not searchable by them",
				"socket", path, "group", group, "folder", dir)
		}
	}
	return ln, nil
}

// unsearchable returns the first folder from dir up to / that members of gid cannot search
// (no x for others, and not x for a group that is gid), or "".
func unsearchable(dir string, gid uint32) string {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return d
		}
		m := fi.Mode().Perm()
		st, ok := fi.Sys().(*syscall.Stat_t)
		if m&0o001 == 0 && !(ok && st.Gid == gid && m&0o010 != 0) {
			return d
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}

// Serve accepts connections until ctx ends or ln is closed, running each request in its own
// goroutine; it returns after every request goroutine has ended.
func Serve(ctx context.Context, ln *net.UnixListener, h Handler, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() { // ends with ctx: unblocks Accept
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Go(func() {
			defer c.Close()
			if err := serveConn(ctx, c, h); err != nil {
				if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
					log.Debug("forwarded command: the caller went away", "err", err)
					return
				}
				log.Warn("forwarded command", "err", err)
			}
		})
	}
}

func serveConn(ctx context.Context, c *net.UnixConn, h Handler) error {
	uid, gids, err := peerCred(c)
	if err != nil {
		return err
	}
	br := bufio.NewReader(io.LimitReader(c, maxRequest))
	line, err := br.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	req.UID, req.GIDs = uid, gids
	req.User = strconv.Itoa(uid)
	if u, err := user.LookupId(req.User); err == nil {
		req.User = u.Username
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &frameWriter{c: c}
	// The rest of the stream is the client's stdin; reaching its end does not cancel.
	stdin := io.MultiReader(br, c)
	code := h(ctx, req, stdin, w.stream(streamStdout), w.stream(streamStderr))
	var status [4]byte
	binary.BigEndian.PutUint32(status[:], uint32(code))
	return w.write(streamExit, status[:])
}

// frameWriter serialises frames from the stdout and stderr writers onto one connection.
type frameWriter struct {
	mu sync.Mutex
	c  net.Conn
}

func (w *frameWriter) write(stream byte, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var hdr [5]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	if _, err := w.c.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.c.Write(p)
	return err
}

func (w *frameWriter) stream(id byte) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		for len(p) > 0 {
			n := min(len(p), 1<<20)
			if err := w.write(id, p[:n]); err != nil {
				return 0, err
			}
			p = p[n:]
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) {
	n := len(p)
	_, err := f(p)
	return n, err
}

// Call runs args in the daemon listening on socketPath and copies its output to stdout and
// stderr. stdin, when not nil, is streamed to the command. It returns the command's exit status.
func Call(ctx context.Context, socketPath string, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socketPath)
	if err != nil {
		return 0, fmt.Errorf("connect to daemon: %w", err)
	}
	c := conn.(*net.UnixConn)
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	cwd, _ := os.Getwd()
	req, err := json.Marshal(Request{Args: args, Cwd: cwd})
	if err != nil {
		return 0, err
	}
	if _, err := c.Write(append(req, '\n')); err != nil {
		return 0, fmt.Errorf("send request: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if stdin != nil {
		wg.Go(func() {
			_, _ = io.Copy(c, stdin)
			_ = c.CloseWrite()
		})
	} else if err := c.CloseWrite(); err != nil {
		return 0, fmt.Errorf("send request: %w", err)
	}
	br := bufio.NewReader(c)
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("daemon closed the connection before the command ended: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		switch hdr[0] {
		case streamStdout, streamStderr:
			dst := stdout
			if hdr[0] == streamStderr {
				dst = stderr
			}
			if _, err := io.CopyN(dst, br, int64(n)); err != nil {
				return 0, fmt.Errorf("copy output: %w", err)
			}
		case streamExit:
			var status [4]byte
			if n != 4 {
				return 0, fmt.Errorf("bad exit frame of %d bytes", n)
			}
			if _, err := io.ReadFull(br, status[:]); err != nil {
				return 0, fmt.Errorf("read exit status: %w", err)
			}
			return int(binary.BigEndian.Uint32(status[:])), nil
		default:
			return 0, fmt.Errorf("unknown frame type %d", hdr[0])
		}
	}
}
