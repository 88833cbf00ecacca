package health

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/granter/runbook/internal/browser"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
)

// frontendStep is the health flow's step that checks web-frontend as a
// user sees it, in the headless browser the target's file names
// (browser.path): its page renders (a title, an h1 heading, a visible
// search form), and a search typed into the form and submitted shows the
// grants the search API finds for it. A target whose file names no browser
// reports it as NOT APPLICABLE (target.Load declares it), never as passed.
func frontendStep(tgt *target.Target) flow.Step {
	return flow.Step{Name: phase4.FrontendInBrowserStep, Independent: true,
		Run: func(ctx context.Context, rec *flow.Recorder) error { return frontendInBrowser(ctx, rec, tgt) }}
}

// apiGrant is what the check reads of a search result.
type apiGrant struct {
	Title   string `json:"title"`
	Summary string `json:"summary"`
}

type apiPage struct {
	Results []apiGrant `json:"results"`
}

func frontendInBrowser(ctx context.Context, rec *flow.Recorder, tgt *target.Target) (err error) {
	if tgt.Browser == nil {
		return flow.Skip("the target's file names no browser (browser.path)")
	}
	began := time.Now()
	front, ok := tgt.Service(target.WebFrontend)
	if !ok || front.URL == "" {
		return fmt.Errorf("web-frontend: no URL (services[].url in %s)", tgt.File)
	}
	// What to type, and what the results page must then show: the search
	// API's own answer for it.
	word, want, wantURL, note, err := frontendQuery(ctx, tgt)
	if err != nil {
		return err
	}
	rec.Record("GET "+wantURL, fmt.Sprintf("%d results for %q: the results page must show these", len(want.Results), word))
	if note != "" {
		rec.Logf("⚠ %s", note)
	}

	bo := browser.Options{Path: tgt.Browser.Path, Timeout: tgt.Browser.Timeout, InsecureTLS: tgt.HTTP.InsecureTLS}
	if tgt.HTTP.RootCA != "" && !tgt.HTTP.InsecureTLS && strings.HasPrefix(front.URL, "https://") {
		// A private CA: the browser trusts the one key Go verified
		// against it for this host (browser.PinVerified).
		key, err := browser.PinVerified(ctx, front.URL, httpcheck.TLSConfig(tgt.HTTP))
		if err != nil {
			return err
		}
		bo.TrustedKeys = []string{key}
		rec.Logf("%s's certificate verified against http.rootCA %s; the browser accepts its key (sha256 %s) and no other unknown one", front.URL, tgt.HTTP.RootCA, key)
	}
	b, err := browser.Start(ctx, bo)
	if err != nil {
		return fmt.Errorf("browser.path %q (%s): %w", tgt.Browser.Path, tgt.File, err)
	}
	defer func() {
		if cerr := b.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the browser: %w", cerr))
		}
		rec.Logf("browser step took %s in all (browser %s started in %s, closed)", time.Since(began).Round(time.Millisecond), b.Path, b.Started.Round(time.Millisecond))
	}()
	home := front.URL + "/"
	t0 := time.Now()
	page, err := b.Open(home)
	if err != nil {
		return withBrowserLog(err, b)
	}
	if problem := homeProblem(page); problem != "" {
		return fmt.Errorf("web-frontend page %s in %s: %s; want status 200, a title, an h1 heading and a visible search form (a text field and a submit button); saw status %d, title %q, heading %q, form %s; page text: %s",
			page.URL, b.Path, problem, page.Status, page.Title, page.Heading, formString(page.Form), page.Excerpt())
	}
	rec.Record("open "+page.URL+" in "+b.Path, fmt.Sprintf("%d, title %q, heading %q, a visible search form (field %q), in %s",
		page.Status, page.Title, page.Heading, page.Form.Field, time.Since(t0).Round(time.Millisecond)))

	t0 = time.Now()
	res, err := b.Search(word)
	if err != nil {
		return withBrowserLog(fmt.Errorf("on %s: %w", page.URL, err), b)
	}
	wantTitles := make([]string, len(want.Results))
	for i, g := range want.Results {
		wantTitles[i] = g.Title
	}
	if problem := resultsProblem(res, wantTitles); problem != "" {
		return fmt.Errorf("typed %q into the search form of %s and submitted it: the results page %s (status %d) %s; want the %d grants GET %s answers, in its order (first: %q); page text: %s",
			word, page.URL, res.URL, res.Status, problem, len(wantTitles), wantURL, wantTitles[0], res.Excerpt())
	}
	rec.Record(fmt.Sprintf("type %q into the search form and submit", word), fmt.Sprintf("%s: %d, %d results, the API's (first: %q), in %s",
		res.URL, res.Status, len(res.Results), res.Results[0], time.Since(t0).Round(time.Millisecond)))
	return nil
}

// frontendQuery picks a word to search for from the search API's first
// page and returns the API's answer for it: a title word whose answer is
// not the unfiltered first page, so that a page that drops what was typed
// shows other grants. When no word selects anything (the API ignores the
// query: the search flow judges that), the first word is used and the
// note says the page's query cannot be told from none.
func frontendQuery(ctx context.Context, tgt *target.Target) (word string, want apiPage, wantURL, note string, err error) {
	api, err := httpcheck.ForService(tgt, target.BackendCore)
	if err != nil {
		return "", apiPage{}, "", "", err
	}
	defer api.CloseIdleConnections()
	var all apiPage
	resp, err := api.GetJSON(ctx, "/search?limit=20", http.StatusOK, &all)
	if err != nil {
		return "", apiPage{}, "", "", fmt.Errorf("choosing what to type into the page's search: %w", err)
	}
	words := titleWords(all.Results)
	if len(words) == 0 {
		return "", apiPage{}, "", "", resp.Errorf("choosing what to type into the page's search: no title word of 6+ letters among %d grants", len(all.Results))
	}
	words = words[:min(len(words), 5)]
	for i, w := range words {
		var got apiPage
		path := "/search?" + url.Values{"query": {w}, "limit": {"20"}}.Encode()
		resp, err := api.GetJSON(ctx, path, http.StatusOK, &got)
		if err != nil {
			return "", apiPage{}, "", "", err
		}
		if len(got.Results) == 0 {
			continue
		}
		if i == 0 || word == "" {
			word, want, wantURL = w, got, resp.URL
		}
		if !samePrefix(got.Results, all.Results) {
			return w, got, resp.URL, "", nil
		}
	}
	if word == "" {
		return "", apiPage{}, "", "", resp.Errorf("no result for any of the title words %q: the page's search cannot be checked against the API", words)
	}
	return word, want, wantURL, fmt.Sprintf("the API answers %q, like %q, with the unfiltered first page: the page's query cannot be told from none here", words, word), nil
}

// titleWords are the results' title words of 6+ letters, lower case, each
// once, those that another result has in neither title nor summary first.
func titleWords(results []apiGrant) []string {
	var selective, rest []string
	seen := map[string]bool{}
	for _, g := range results {
		for _, w := range strings.FieldsFunc(g.Title, func(r rune) bool { return !unicode.IsLetter(r) }) {
			w = strings.ToLower(w)
			if len([]rune(w)) < 6 || seen[w] {
				continue
			}
			seen[w] = true
			if slices.ContainsFunc(results, func(o apiGrant) bool { return !strings.Contains(strings.ToLower(o.Title+" "+o.Summary), w) }) {
				selective = append(selective, w)
			} else {
				rest = append(rest, w)
			}
		}
	}
	return append(selective, rest...)
}

// samePrefix reports whether a is the start of b, title for title.
func samePrefix(a, b []apiGrant) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i].Title != b[i].Title {
			return false
		}
	}
	return true
}

// homeProblem says what is wrong with the home page, "" when nothing.
func homeProblem(p browser.Page) string {
	var missing []string
	if p.Status != http.StatusOK {
		missing = append(missing, fmt.Sprintf("status %d", p.Status))
	}
	if strings.TrimSpace(p.Title) == "" {
		missing = append(missing, "no title")
	}
	if strings.TrimSpace(p.Heading) == "" {
		missing = append(missing, "no h1 heading")
	}
	switch {
	case !p.Form.Found:
		missing = append(missing, "no search form")
	case !p.Form.FieldVisible || !p.Form.SubmitVisible:
		missing = append(missing, "the search form is not visible")
	}
	return strings.Join(missing, ", ")
}

// resultsProblem says how the results page differs from the API's answer.
func resultsProblem(p browser.Page, want []string) string {
	if p.Status != http.StatusOK {
		return fmt.Sprintf("answered status %d", p.Status)
	}
	if len(p.Results) == 0 {
		return "shows no result item (.result .result-title)"
	}
	for i := range max(len(p.Results), len(want)) {
		switch {
		case i >= len(want):
			return fmt.Sprintf("shows %d results, %d more than the API: #%d %q", len(p.Results), len(p.Results)-len(want), i+1, p.Results[i])
		case i >= len(p.Results):
			return fmt.Sprintf("shows %d results, the API %d: #%d %q is missing", len(p.Results), len(want), i+1, want[i])
		case p.Results[i] != want[i]:
			return fmt.Sprintf("shows %d results whose #%d is %q, want %q", len(p.Results), i+1, p.Results[i], want[i])
		}
	}
	return ""
}

func formString(f browser.PageForm) string {
	if !f.Found {
		return "none"
	}
	return fmt.Sprintf("{field %q visible %v, submit visible %v, action %s}", f.Field, f.FieldVisible, f.SubmitVisible, f.Action)
}

// withBrowserLog adds what chromedp reported to err.
func withBrowserLog(err error, b *browser.Session) error {
	if l := b.Log(); len(l) > 0 {
		return fmt.Errorf("%w (browser: %s)", err, strings.Join(l, "; "))
	}
	return err
}
