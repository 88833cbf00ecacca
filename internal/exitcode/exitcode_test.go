package exitcode_test

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/granter/runbook/internal/exitcode"
)

// Every class word reads back as its code, and a journal word that names
// no class is not mistaken for one.
func TestClassRoundTrip(t *testing.T) {
	for code := exitcode.Internal; code <= exitcode.Inconclusive; code++ {
		w := exitcode.Class(code)
		if w == "" {
			t.Fatalf("code %d (%s) has no class word", code, exitcode.Name(code))
		}
		got, ok := exitcode.FromClass(w)
		if !ok || got != code {
			t.Errorf("FromClass(%q) = %d, %v; want %d, true", w, got, ok, code)
		}
	}
	if got, ok := exitcode.FromClass("SLO"); !ok || got != exitcode.SLO {
		t.Errorf(`FromClass("SLO") = %d, %v; want %d, true (case-insensitive)`, got, ok, exitcode.SLO)
	}
	for _, w := range []string{"", "ok", "nonsense"} {
		if got, ok := exitcode.FromClass(w); ok {
			t.Errorf("FromClass(%q) = %d, true; want no class", w, got)
		}
	}
}

// A refusal says what was refused and why, and carries exit code 8.
func TestRefuse(t *testing.T) {
	err := exitcode.Refuse("rollback", "no verified backup in runs/x/journal.jsonl")
	var ec *exitcode.Error
	if !errors.As(err, &ec) || ec.Code != exitcode.Refused {
		t.Fatalf("Refuse: want an *exitcode.Error with code %d, got %#v", exitcode.Refused, err)
	}
	var r *exitcode.Refusal
	if !errors.As(err, &r) {
		t.Fatalf("Refuse: want a *exitcode.Refusal inside, got %#v", err)
	}
	if want := "rollback refused: no verified backup in runs/x/journal.jsonl"; err.Error() != want {
		t.Errorf("message: want %q, got %q", want, err.Error())
	}
}

// README's "Exit codes" table is for people; it must say what this
// package says: one row per code, with the class name Name prints.
func TestReadmeTableMatches(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatalf("reading README.md: %v", err)
	}
	row := regexp.MustCompile(`(?m)^\| (\d) \| ([^|]+) \|`)
	seen := map[int]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		code, _ := strconv.Atoi(m[1])
		seen[code] = true
		if got, want := strings.TrimSpace(m[2]), exitcode.Name(code); got != want {
			t.Errorf("README.md: exit code %d is %q, exitcode.Name says %q", code, got, want)
		}
	}
	for code := exitcode.OK; code <= exitcode.Inconclusive; code++ {
		if !seen[code] {
			t.Errorf("README.md: no row for exit code %d (%s)", code, exitcode.Name(code))
		}
	}
}
