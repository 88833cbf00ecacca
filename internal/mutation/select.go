package mutation

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Sample picks n mutants, the same ones for the same code: the operators
// take turns (each contributes in Operators order) and, within one, the
// mutants are ordered by a hash of their id, so no file or function
// dominates and the choice does not move when unrelated code changes.
// skip lists ids not to pick (the equivalent ones).
func Sample(all []Mutant, n int, skip map[string]string) []Mutant {
	byOp := map[string][]Mutant{}
	for _, m := range all {
		if _, ok := skip[m.ID]; ok {
			continue
		}
		byOp[m.Op] = append(byOp[m.Op], m)
	}
	for _, ms := range byOp {
		sort.Slice(ms, func(i, j int) bool { return hashID(ms[i].ID) < hashID(ms[j].ID) })
	}
	var out []Mutant
	for len(out) < n {
		took := false
		for _, op := range Operators {
			if len(out) == n {
				break
			}
			if ms := byOp[op]; len(ms) > 0 {
				out = append(out, ms[0])
				byOp[op] = ms[1:]
				took = true
			}
		}
		if !took {
			break
		}
	}
	return out
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:8])
}

// ByID returns the mutants with these ids, in the order given, and the ids
// that match none (code changed since the list was written).
func ByID(all []Mutant, ids []string) (found []Mutant, missing []string) {
	idx := map[string]Mutant{}
	for _, m := range all {
		idx[m.ID] = m
	}
	for _, id := range ids {
		if m, ok := idx[id]; ok {
			found = append(found, m)
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}

// ReadList reads a list file: one id per line, optionally followed by a
// tab and a text (the reason of an equivalent mutant); blank lines and
// lines starting with # are ignored. It returns id -> text and the ids in
// file order. A listed id without a text is an error when needText.
func ReadList(path string, needText bool) (map[string]string, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	out := map[string]string{}
	var order []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, text, _ := strings.Cut(line, "\t")
		id, text = strings.TrimSpace(id), strings.TrimSpace(text)
		if needText && text == "" {
			return nil, nil, fmt.Errorf("%s:%d: %s has no reason (id<TAB>why it cannot be told apart)", path, n, id)
		}
		if _, dup := out[id]; dup {
			return nil, nil, fmt.Errorf("%s:%d: %s listed twice", path, n, id)
		}
		out[id] = text
		order = append(order, id)
	}
	return out, order, sc.Err()
}
