package search

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Filter is one search: the query parameters and what every result must
// satisfy.
type Filter struct {
	Query                         string
	Category, Region              string
	MinAmount, MaxAmount          int64 // 0: not set
	DeadlineAfter, DeadlineBefore string
	Page, Limit                   int
}

// Values are the query parameters.
func (f Filter) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	num := func(k string, n int64) {
		if n > 0 {
			v.Set(k, strconv.FormatInt(n, 10))
		}
	}
	set("query", f.Query)
	set("category", f.Category)
	set("region", f.Region)
	num("min_amount", f.MinAmount)
	num("max_amount", f.MaxAmount)
	set("deadline_after", f.DeadlineAfter)
	set("deadline_before", f.DeadlineBefore)
	num("page", int64(f.Page))
	num("limit", int64(f.Limit))
	return v
}

// Violation says how g breaks the filter, or "" when it satisfies it.
func (f Filter) Violation(g Grant) string {
	var bad []string
	if f.Query != "" && !matchesQuery(g, f.Query) {
		bad = append(bad, fmt.Sprintf("title and summary do not contain %q", f.Query))
	}
	if f.Category != "" && g.Category != f.Category {
		bad = append(bad, fmt.Sprintf("category %q, want %q", g.Category, f.Category))
	}
	if f.Region != "" && g.Region != f.Region {
		bad = append(bad, fmt.Sprintf("region %q, want %q", g.Region, f.Region))
	}
	if f.MinAmount > 0 && g.Amount < f.MinAmount {
		bad = append(bad, fmt.Sprintf("amount %d < min_amount %d", g.Amount, f.MinAmount))
	}
	if f.MaxAmount > 0 && g.Amount > f.MaxAmount {
		bad = append(bad, fmt.Sprintf("amount %d > max_amount %d", g.Amount, f.MaxAmount))
	}
	// YYYY-MM-DD compares as text.
	if f.DeadlineAfter != "" && g.Deadline < f.DeadlineAfter {
		bad = append(bad, fmt.Sprintf("deadline %s before deadline_after %s", g.Deadline, f.DeadlineAfter))
	}
	if f.DeadlineBefore != "" && g.Deadline > f.DeadlineBefore {
		bad = append(bad, fmt.Sprintf("deadline %s after deadline_before %s", g.Deadline, f.DeadlineBefore))
	}
	if _, err := time.Parse(time.DateOnly, g.Deadline); err != nil {
		bad = append(bad, fmt.Sprintf("deadline %q is not YYYY-MM-DD", g.Deadline))
	}
	if g.ID == 0 || g.Title == "" {
		bad = append(bad, "no id or no title")
	}
	return strings.Join(bad, "; ")
}

// matchesQuery: Postgres full-text search matches word stems, so a result
// for "computing" contains a word starting with "comp". Four letters is
// short enough for every English suffix rule ("organisations" matches
// "organise") and long enough to tell results apart.
func matchesQuery(g Grant, query string) bool {
	text := strings.ToLower(g.Title + " " + g.Summary)
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if !strings.Contains(text, stemPrefix(w)) {
			return false
		}
	}
	return true
}

func stemPrefix(w string) string {
	if r := []rune(w); len(r) > 4 {
		return string(r[:4])
	}
	return w
}
