package asaconfig

import "testing"

func BenchmarkParse(b *testing.B) {
	text := readFixture(b, "clinic.cfg")
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := Parse(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlanBlock(b *testing.B) {
	c := mustParse(b, "clinic.cfg")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.PlanBlock(block1, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
