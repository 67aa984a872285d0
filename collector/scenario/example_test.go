package scenario_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/firebreak-dev/firebreak/collector/scenario"
)

func ExampleGenerate() {
	var asa bytes.Buffer
	truth, err := scenario.Generate(context.Background(),
		scenario.Config{Seed: 1, Days: 3, LinesPerDay: 2000},
		scenario.Writers{ASA: &asa, Routers: io.Discard})
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := bufio.NewScanner(&asa)
	for i := 0; i < 2 && sc.Scan(); i++ {
		fmt.Println(sc.Text())
	}
	for _, in := range truth.Incidents[:3] {
		fmt.Println(in.ID, in.Detector, in.Start.Format("Jan 2 15:04"))
	}
	// Output:
	// <166>Apr 06 2026 00:00:02 asa1 : %ASA-6-302013: Built outbound TCP connection 10000220 for outside:192.0.2.11/443 (192.0.2.11/443) to inside:10.1.11.10/49365 (203.0.113.1/38841)
	// <166>Apr  6 00:00:05 asa1 %ASA-6-302014: Teardown TCP connection 10000220 for outside:192.0.2.11/443 to inside:10.1.11.10/49365 duration 0:00:03 bytes 66047 TCP FINs
	// exfil-1 volume_spike Apr 8 14:00
	// san-1 san_crossing Apr 7 01:30
	// printer-1 printer_egress Apr 6 00:00
}
