// archive files the lines of generated syslog in a raw archive folder under each line's own
// time, as the daemon files what it receives live, so that the dashboard's drill-down has raw
// lines to show for a scenario that was ingested (ingest does not archive). Used by
// detect/report/screenshots.sh only:
//
//	go run ./detect/report/testdata/screens SITE.yaml ARCHIVE_DIR LOG...
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/policies"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: archive SITE.yaml ARCHIVE_DIR LOG...")
		os.Exit(2)
	}
	n, err := run(context.Background(), os.Args[1], os.Args[2], os.Args[3:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "archive:", err)
		os.Exit(1)
	}
	fmt.Printf("archived %d lines in %s\n", n, os.Args[2])
}

func run(ctx context.Context, site, dir string, logs []string) (int, error) {
	cfg, err := policies.Load(site)
	if err != nil {
		return 0, err
	}
	a, err := collector.OpenArchive(dir)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return now }, MaxFrame: collector.MaxLine,
		Zone: func(host string) *time.Location {
			if d, ok := cfg.DeviceByName(host); ok {
				return d.Location()
			}
			return cfg.Location()
		}})
	var ev ciscolog.Event
	n := 0
	for _, name := range logs {
		r, err := collector.OpenLog(name, nil)
		if err != nil {
			return n, err
		}
		sc := collector.NewLineScanner(r, collector.MaxLine)
		for {
			if _, ok := sc.Next(ctx); !ok {
				break
			}
			if p.Parse(sc.Line(), &ev); ev.Time.IsZero() {
				continue
			}
			if err := a.Write(ev.Time, sc.Line()); err != nil {
				r.Close()
				return n, err
			}
			n++
		}
		r.Close()
		if err := sc.Err(); err != nil {
			return n, err
		}
	}
	return n, a.Close()
}
