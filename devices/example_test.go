package devices_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
)

// Example pushes a block to a fake ASA: a managed object-group, a member
// and a deny ACE after the management permit, verified by reading the
// configuration back.
func Example() {
	srv, _ := fakeasa.New(fakeasa.Config{
		RunningConfig: "hostname fw1\n" +
			"access-list OUTSIDE_IN extended permit tcp host 192.0.2.50 any eq ssh\n" +
			"access-list OUTSIDE_IN extended deny ip any any\n",
		User: "firebreak", Password: "example-pw", EnableSecret: "example-enable",
	})
	addr, _ := srv.Start()
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	kh := filepath.Join(dir, "known_hosts")
	_ = srv.WriteKnownHosts(kh)
	os.Setenv("EXAMPLE_ASA_PW", "example-pw")
	os.Setenv("EXAMPLE_ASA_ENABLE", "example-enable")

	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	ctx := context.Background()
	asa, err := devices.DialASA(ctx, devices.Target{
		Name: "fw1", Address: host, Port: p, User: "firebreak", KnownHostsFile: kh,
		Auth: devices.Credentials{PasswordEnv: "EXAMPLE_ASA_PW", EnableSecretEnv: "EXAMPLE_ASA_ENABLE"},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer asa.Close()

	c := devices.MustCommand
	grp := c("object-group network BLOCK")
	ace := "access-list OUTSIDE_IN line 2 extended deny ip object-group BLOCK any"
	rep, err := devices.Apply(ctx, asa, devices.Plan{
		Steps: []devices.Step{
			{Do: grp, Undo: c("no object-group network BLOCK")},
			{Mode: grp, Do: c("network-object host 203.0.113.7"), Undo: c("no network-object host 203.0.113.7")},
			{Do: c(ace), Undo: c("no " + ace)},
		},
		Verify: func(running string) error {
			if !strings.Contains(running, "deny ip object-group BLOCK any\n") {
				return fmt.Errorf("deny ACE missing")
			}
			return nil
		},
	})
	fmt.Println(len(rep.Applied), rep.RolledBack, err)
	fmt.Print(srv.Running())
	// Output:
	// 3 false <nil>
	// hostname fw1
	// object-group network BLOCK
	//  network-object host 203.0.113.7
	// access-list OUTSIDE_IN extended permit tcp host 192.0.2.50 any eq ssh
	// access-list OUTSIDE_IN extended deny ip object-group BLOCK any
	// access-list OUTSIDE_IN extended deny ip any any
}
