package asaconfig

import (
	"slices"
	"strings"
	"testing"
)

const maxFuzzInput = 64 << 10

func FuzzParse(f *testing.F) {
	for _, name := range []string{"clinic.cfg", "clinic-names.cfg"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte("access-list A extended permit tcp host 1.1.1.1 range 5 1 any log interval\n"))
	f.Add([]byte("object-group network G\n group-object G\naccess-list A extended deny ip object-group G any\n"))
	f.Add([]byte("interface E0\n nameif inside\n ip address 10.0.0.1 255.255.255.0 standby\nroute inside 10.1.0.0 255.255.0.0 10.0.0.2 300\n"))
	f.Fuzz(checkParseProperties)
}

// checkParseProperties: Parse never fails below the size cap, round-trips,
// and nothing built on the result panics; a plan it accepts applies.
func checkParseProperties(t *testing.T, b []byte) {
	if len(b) > maxFuzzInput {
		return
	}
	c, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := c.Render(); got != string(b) {
		t.Fatalf("Render() != input")
	}
	c.SelfProtected()
	c.Interfaces()
	c.NetworkGroups()
	c.Routes()
	var all Scope
	all.Routes = true
	for _, n := range c.ACLNames() {
		c.ElementCount(n)
		all.ACLs = append(all.ACLs, n)
	}
	c.Fingerprint(all)
	for _, ifc := range []string{"outside", "inside"} {
		b := block1
		b.Interface = ifc
		if p, err := c.PlanBlock(b, Limits{}); err == nil {
			if _, err := c.Apply(p.Changes); err != nil {
				t.Fatalf("planned block does not apply: %v", err)
			}
		}
		q := quarantine1
		q.Interface = ifc
		c.PlanQuarantine(q, Limits{})
	}
}

// TestParseMutations runs the fuzz properties over systematic mutations of
// every fixture line (truncated at each field, a field dropped, a field
// replaced by a hostile token), each with a small context, so the
// properties hold in plain `go test` runs too.
func TestParseMutations(t *testing.T) {
	context := "interface E0\n nameif outside\n ip address 198.51.100.2 255.255.255.248\n" +
		"interface E1\n nameif inside\n ip address 10.20.0.1 255.255.255.0\n" +
		"object-group network FIREBREAK-BLOCK\n network-object host 1.2.3.4\n" +
		"access-group OUTSIDE_IN in interface outside\naccess-group INSIDE_IN in interface inside\n"
	hostile := []string{"", "-1", "999.1.1.1", "255.0.255.0", "FIREBREAK-BLOCK", "any", "host", "object-group", "line", "\r", "x\x00"}
	n := 0
	for _, l := range strings.Split(string(readFixture(t, "clinic.cfg")), "\n") {
		f := strings.Fields(l)
		indent := ""
		if strings.HasPrefix(l, " ") {
			indent = " "
		}
		var variants []string
		for i := range f {
			variants = append(variants, indent+strings.Join(f[:i], " "))
			variants = append(variants, indent+strings.Join(append(slices.Clone(f[:i]), f[i+1:]...), " "))
			for _, h := range hostile {
				g := slices.Clone(f)
				g[i] = h
				variants = append(variants, indent+strings.Join(g, " "))
			}
		}
		for _, v := range variants {
			checkParseProperties(t, []byte(context+v+"\n"))
			checkParseProperties(t, []byte(v))
			n += 2
		}
	}
	if n < 1000 {
		t.Errorf("only %d mutations", n)
	}
}

func FuzzParseShowAccessList(f *testing.F) {
	f.Add(readFixture(f, "show-access-list.txt"))
	f.Add([]byte("access-list X line 1 extended deny ip any any (hitcnt=1) (inactive) 0x1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		ParseShowAccessList(b)
	})
}
