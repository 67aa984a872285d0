package remediate

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/policies"
)

// Pusher reaches an ASA. SSH satisfies it with the devices package;
// implementations must verify host keys and keep secrets out of every
// returned string. Methods may be called concurrently; the Manager
// serialises pushes to one device itself.
type Pusher interface {
	// RunningConfig returns `show running-config`.
	RunningConfig(ctx context.Context, dev *policies.Device) (string, error)
	// Push applies plan with stop-at-first-error, verify and rollback
	// (devices.Apply semantics); Report.Transcript is the redacted session.
	Push(ctx context.Context, dev *policies.Device, plan devices.Plan) (devices.Report, error)
	// Show runs a read-only command (show access-list ...).
	Show(ctx context.Context, dev *policies.Device, cmd string) (string, error)
	// Exec runs a privileged-EXEC line (shun, no shun).
	Exec(ctx context.Context, dev *policies.Device, line devices.Command) (string, error)
}

// SSH is the Pusher over the devices package: one SSH session per call,
// credentials from the environment variables, key file or agent the policy
// names, host keys checked against the policy's known_hosts file.
type SSH struct {
	Logger *slog.Logger // may be nil
}

var _ Pusher = SSH{}

// Target builds the devices target of a policy device. No secret is read
// here: devices reads the named variables when it dials.
func Target(dev *policies.Device) (devices.Target, error) {
	if !dev.Manageable() {
		return devices.Target{}, fmt.Errorf("device %s has no ssh settings: %w", dev.Name, ErrNoDevice)
	}
	return devices.Target{
		Name:    dev.Name,
		Address: dev.SSH.Address.String(),
		Port:    dev.SSH.Port,
		User:    dev.SSH.User,
		Auth: devices.Credentials{
			PasswordEnv:     dev.SSH.PasswordEnv,
			KeyFile:         dev.SSH.KeyFile,
			Agent:           dev.SSH.Agent,
			EnableSecretEnv: dev.SSH.EnablePasswordEnv,
		},
		KnownHostsFile:   dev.SSH.KnownHosts,
		LegacyAlgorithms: dev.SSH.LegacyAlgorithms,
		Timeout:          time.Duration(dev.SSH.Timeout),
		Hostname:         dev.SSH.Hostname,
		Context:          dev.SSH.Context,

		KeepaliveInterval: time.Duration(dev.SSH.Keepalive),
		KeepaliveMax:      dev.SSH.KeepaliveMax,
	}, nil
}

func (s SSH) dial(ctx context.Context, dev *policies.Device) (*devices.ASA, error) {
	t, err := Target(dev)
	if err != nil {
		return nil, err
	}
	return devices.DialASA(ctx, t, s.Logger)
}

// RunningConfig implements Pusher.
func (s SSH) RunningConfig(ctx context.Context, dev *policies.Device) (string, error) {
	a, err := s.dial(ctx, dev)
	if err != nil {
		return "", err
	}
	defer a.Close()
	return a.RunningConfig(ctx)
}

// Push implements Pusher with devices.PushASA (no lock: the Manager holds it).
func (s SSH) Push(ctx context.Context, dev *policies.Device, plan devices.Plan) (devices.Report, error) {
	t, err := Target(dev)
	if err != nil {
		return devices.Report{}, err
	}
	return devices.PushASA(ctx, nil, t, plan, s.Logger)
}

// Show implements Pusher.
func (s SSH) Show(ctx context.Context, dev *policies.Device, cmd string) (string, error) {
	a, err := s.dial(ctx, dev)
	if err != nil {
		return "", err
	}
	defer a.Close()
	return a.Show(ctx, cmd)
}

// Exec implements Pusher.
func (s SSH) Exec(ctx context.Context, dev *policies.Device, line devices.Command) (string, error) {
	a, err := s.dial(ctx, dev)
	if err != nil {
		return "", err
	}
	defer a.Close()
	return a.Exec(ctx, line)
}
