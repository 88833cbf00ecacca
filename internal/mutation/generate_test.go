package mutation

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyFixture writes testdata/svc.go.txt as dir/svc.go, with prefix
// inserted after the package clause.
func copyFixture(t *testing.T, prefix string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/svc.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "package svc\n", "package svc\n"+prefix, 1)
	p := filepath.Join(t.TempDir(), "svc.go")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func byID(ms []Mutant) map[string]Mutant {
	out := map[string]Mutant{}
	for _, m := range ms {
		out[m.ID] = m
	}
	return out
}

func TestGenerateOperators(t *testing.T) {
	p := copyFixture(t, "")
	ms, err := Generate([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	got := byID(ms)
	for id, change := range map[string]string{
		"svc.go:Service.search:negate:1":       "if page < 1 && n != 0 -> if !(page < 1 && n != 0)",
		"svc.go:Service.search:boundary:1":     "page < 1 -> <=",
		"svc.go:Service.search:rel-flip:1":     "n != 0 -> ==",
		"svc.go:Service.search:and-or:1":       "&& -> ||",
		"svc.go:Service.search:drop-left:1":    "page < 1 && n != 0 -> n != 0",
		"svc.go:Service.search:early-return:1": "return 0, nil before the body",
		"svc.go:Service.search:swap-args:1":    "min(n, limit) -> arguments 1 and 2 swapped",
		"svc.go:package:const:1":               "100 -> 101",
		"svc.go:Service.search:remove-stmt:1":  "n++ -> (removed)",
	} {
		m, ok := got[id]
		if !ok {
			t.Errorf("no mutant %s; have:\n%s", id, list(ms))
			continue
		}
		if m.Change != change {
			t.Errorf("%s: change %q, want %q", id, m.Change, change)
		}
	}
	for _, m := range ms {
		if strings.HasPrefix(m.Change, "if s.fault") || strings.HasPrefix(m.Change, "s.fault") || strings.Contains(m.Change, "n = 0") {
			t.Errorf("%s (%s) changes a fault switch or the code only a fault runs", m.ID, m.Change)
		}
		if strings.Contains(m.Change, "text != \"\" && !s.fault") && (m.Op == OpDropLeft || m.Op == OpDropRight) {
			t.Errorf("%s: dropping an operand next to a fault switch is equivalent with faults off", m.ID)
		}
	}
}

func TestSourceIsTheOneChange(t *testing.T) {
	p := copyFixture(t, "")
	orig, _ := os.ReadFile(p)
	ms, err := Generate([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	m := byID(ms)["svc.go:Service.search:boundary:1"]
	src, err := m.Source()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "page <= 1 && n != 0") || strings.Count(string(src), "<=") != 1 {
		t.Errorf("mutant source lacks exactly the change %q:\n%s", m.Change, src)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "m.go", src, 0); err != nil {
		t.Errorf("mutant source does not parse: %v", err)
	}
	if now, _ := os.ReadFile(p); string(now) != string(orig) {
		t.Error("Source changed the original file")
	}
}

// An id names the same change after code is added above its function.
func TestIDsStableAcrossEditsElsewhere(t *testing.T) {
	before, err := Generate([]string{copyFixture(t, "")})
	if err != nil {
		t.Fatal(err)
	}
	after, err := Generate([]string{copyFixture(t, "\n// added\nvar extra = map[string]int{\"a\": 1}\n")})
	if err != nil {
		t.Fatal(err)
	}
	a := byID(after)
	for _, m := range before {
		if m.Func == "package" {
			continue
		}
		n, ok := a[m.ID]
		if !ok || n.Change != m.Change {
			t.Errorf("%s (%s) is %+v after an edit above its function", m.ID, m.Change, n)
		}
		if ok && n.Line == m.Line {
			t.Errorf("%s: line %d did not move: the edit was not above it", m.ID, m.Line)
		}
	}
}

func TestSampleTakesEveryOperatorInTurn(t *testing.T) {
	var all []Mutant
	for _, op := range Operators {
		for i := 0; i < 10; i++ {
			all = append(all, Mutant{ID: op + string(rune('a'+i)), Op: op})
		}
	}
	s := Sample(all, 2*len(Operators), map[string]string{Operators[0] + "a": "equivalent"})
	count := map[string]int{}
	for _, m := range s {
		count[m.Op]++
		if m.ID == Operators[0]+"a" {
			t.Error("an equivalent mutant was sampled")
		}
	}
	for _, op := range Operators {
		if count[op] != 2 {
			t.Errorf("operator %s: %d sampled, want 2", op, count[op])
		}
	}
	again := Sample(all, 2*len(Operators), map[string]string{Operators[0] + "a": "equivalent"})
	for i := range s {
		if s[i].ID != again[i].ID {
			t.Fatalf("sample not deterministic at %d: %s vs %s", i, s[i].ID, again[i].ID)
		}
	}
}

func TestReadListNeedsReasons(t *testing.T) {
	p := filepath.Join(t.TempDir(), "eq.tsv")
	os.WriteFile(p, []byte("# comment\na.go:f:negate:1\tno user sees it\nb.go:g:const:1\n"), 0o600)
	if _, _, err := ReadList(p, true); err == nil || !strings.Contains(err.Error(), "b.go:g:const:1 has no reason") {
		t.Errorf("ReadList without a reason: %v, want the id named", err)
	}
	m, order, err := ReadList(p, false)
	if err != nil || len(order) != 2 || m["a.go:f:negate:1"] != "no user sees it" {
		t.Errorf("ReadList: %v %v %v", m, order, err)
	}
}

func TestScore(t *testing.T) {
	rs := []Result{{Class: Killed}, {Class: Killed}, {Class: Killed}, {Class: Survived}, {Class: Equivalent}, {Class: BuildFailed}}
	s := Tally(rs)
	if s.Percent() != 75 || s.Equivalent != 1 || s.Discarded != 1 {
		t.Errorf("score %s, want 75%% with 1 equivalent and 1 discarded", s)
	}
	md := Markdown(append(rs, Result{Mutant: Mutant{ID: "x.go:f:negate:1", File: "x.go", Line: 3, Col: 4, Change: "a | b"}, Class: Survived, Why: "passed"}), "# head\n")
	if !strings.Contains(md, "| `x.go:f:negate:1` | x.go:3:4 | `a \\| b` | passed |") || !strings.Contains(md, "## Survivors (2)") {
		t.Errorf("markdown:\n%s", md)
	}
}

func list(ms []Mutant) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.ID + "  " + m.Change + "\n")
	}
	return b.String()
}
