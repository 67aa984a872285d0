package devices

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrBusy: another process holds the device's push lock.
var ErrBusy = errors.New("device is being changed by another firebreak process")

// LockFile takes the push lock of device in dir (dir/locks/push-DEVICE.lock)
// with an exclusive, non-blocking flock, so pushes from separate processes
// (a CLI push beside the daemon) never interleave on one device. The
// kernel drops the lock when the process ends, so a crash leaves nothing
// stale. A held lock is ErrBusy naming the holder's pid; nothing waits.
// device must be a policy name (NamePattern), never a log-derived value.
func LockFile(dir, device string) (unlock func(), err error) {
	if device == "" || strings.ContainsAny(device, "/\\") || device == "." || device == ".." {
		return nil, fmt.Errorf("lock: bad device name %q", device)
	}
	ld := filepath.Join(dir, "locks")
	if err := os.MkdirAll(ld, 0o750); err != nil {
		return nil, fmt.Errorf("lock dir: %w", err)
	}
	path := filepath.Join(ld, "push-"+device+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("device %s: %w (pid %s holds %s); try again when that push ends",
				device, ErrBusy, strings.TrimSpace(string(holder)), path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
