package ciscolog_test

import (
	"fmt"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

func ExampleParser_Parse() {
	p := ciscolog.NewParser(ciscolog.Options{
		Now: func() time.Time { return time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) },
	})
	frame := []byte("<166>Mar  3 08:15:02 fw-clinic %ASA-6-302013: Built outbound TCP connection 4130017 " +
		"for outside:203.0.113.40/443 (203.0.113.40/443) to inside:10.20.1.15/52114 (198.51.100.7/40112)")
	var ev ciscolog.Event
	p.Parse(frame, &ev)
	client, server := ev.Initiating()
	fmt.Println(ev.Kind, ev.Time, ev.Host, ev.MsgID, ev.Action, ev.Direction)
	fmt.Println("client", client.Iface, client.Addr, client.Port, "as", client.MappedAddr, client.MappedPort)
	fmt.Println("server", server.Iface, server.Addr, server.Port)
	// Output:
	// typed 2026-03-03 08:15:02 +0000 UTC fw-clinic 302013 built outbound
	// client inside 10.20.1.15 52114 as 198.51.100.7 40112
	// server outside 203.0.113.40 443
}

func ExampleAppendECS() {
	p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) }})
	var ev ciscolog.Event
	p.ParseString(`%ASA-4-106023: Deny udp src outside:192.0.2.12/5353 dst inside:10.20.1.255/5353 by access-group "outside_access_in" [0x0, 0x0]`, &ev)
	buf := ciscolog.AppendECS(nil, &ev)
	fmt.Println(string(buf[:143]))
	// Output:
	// {"ecs.version":"8.11.0","message":"Deny udp src outside:192.0.2.12/5353 dst inside:10.20.1.255/5353 by access-group \"outside_access_in\" [0x0,
}
