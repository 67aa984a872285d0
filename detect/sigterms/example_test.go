package sigterms_test

import (
	"fmt"

	"github.com/firebreak-dev/firebreak/detect/sigterms"
)

func ExampleRank() {
	// Destination ports: last 24 h (1,000 events) against all history
	// (1,000,000 events, including the last 24 h).
	terms := []sigterms.Term{
		{Key: "443", FG: 600, BG: 550000},
		{Key: "3389", FG: 50, BG: 5000},
		{Key: "4444", FG: 20, BG: 25},
		{Key: "53", FG: 10, BG: 100000},
		{Key: "31337", FG: 1, BG: 1},
	}
	h, err := sigterms.ByName("jlh")
	if err != nil {
		fmt.Println(err)
		return
	}
	ranked, err := sigterms.Rank(terms, 1000, 1000000, h, sigterms.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range ranked {
		fmt.Printf("%-5s %7.3f  fg %d/%d  bg %d/%d\n", s.Key, s.Score, s.FG, s.SubsetSize, s.BG, s.SupersetSize)
	}
	// Output:
	// 4444   15.980  fg 20/1000  bg 25/1000000
	// 3389    0.450  fg 50/1000  bg 5000/1000000
	// 443     0.055  fg 600/1000  bg 550000/1000000
}
