package health

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
)

// refusedSearchPath is a search both /search endpoints must refuse: limit
// is at least 1 (docs/API.md).
const refusedSearchPath = "/search?query=grant&limit=0"

// refusedSearchStep checks what a user sees of a search the API refuses:
// web-frontend's results page must answer it as a page (docs/API.md: 400,
// text/html, the API's message), with the search form to try again, never
// a blank page. It reads only.
func refusedSearchStep(tgt *target.Target) flow.Step {
	return flow.Step{Name: "frontend_refused_search", Independent: true,
		Run: func(ctx context.Context, rec *flow.Recorder) error { return refusedSearch(ctx, rec, tgt) }}
}

var (
	heading = regexp.MustCompile(`(?is)<h1[^>]*>(.*?)</h1>`)
	tags    = regexp.MustCompile(`<[^>]*>`)
)

func refusedSearch(ctx context.Context, rec *flow.Recorder, tgt *target.Target) error {
	api, err := httpcheck.ForService(tgt, target.BackendCore)
	if err != nil {
		return err
	}
	defer api.CloseIdleConnections()
	front, err := httpcheck.ForService(tgt, target.WebFrontend)
	if err != nil {
		return err
	}
	defer front.CloseIdleConnections()
	var refused struct {
		Error string `json:"error"`
	}
	aresp, err := api.GetJSON(ctx, refusedSearchPath, http.StatusBadRequest, &refused)
	var se *httpcheck.StatusError
	if errors.As(err, &se) && se.Got/100 == 2 {
		// The search flow fails on that (page_limit_zero_400); here there is
		// no refused search to show.
		return flow.Skip("the search API answered GET %s with %d, not 400: there is no refused search for the results page to show (the search flow's page_limit_zero_400 step judges the API)", refusedSearchPath, se.Got)
	}
	if err != nil {
		return fmt.Errorf("the search API must refuse limit=0 (docs/API.md): %w", err)
	}
	resp, err := front.Get(ctx, refusedSearchPath, http.StatusBadRequest)
	if err != nil {
		return fmt.Errorf("the results page must show a search the API refuses as a page (docs/API.md): %w", err)
	}
	body := string(resp.Body)
	var h string
	if m := heading.FindStringSubmatch(body); m != nil {
		h = strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(m[1], "")))
	}
	if err := wantHTML(resp, "a refused search is not shown as a page"); err != nil {
		return err
	}
	switch {
	case h != refused.Error:
		return resp.Errorf("heading %q, want the API's message %q (GET %s answered it): the user is not told why the search was refused", h, refused.Error, aresp.URL)
	case !strings.Contains(body, `role="search"`):
		return resp.Errorf(`no search form (form role="search") on the page: the user cannot search again`)
	}
	rec.Record("GET "+resp.URL, fmt.Sprintf("%d, a page headed %q (the API's message), with the search form", resp.Status, h))
	return nil
}
