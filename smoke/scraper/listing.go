package scraper

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"

	"github.com/granter/runbook/internal/httpcheck"
)

// MaxListingPages bounds the walk of a listing, in case it never ends.
const MaxListingPages = 200

// Listing is what the listing site lists, as the flow read it itself.
type Listing struct {
	Pages  []string // page URLs, first to last, as rel=next resolves them
	Grants []Listed // in page order
}

// Listed is one <article class="grant" data-ref="REF"> of a listing page.
type Listed struct {
	Ref   string
	Title string
	Page  string
}

// ReadListing walks the listing from first, following <a rel="next">, and
// returns its pages and grants. A page that does not answer 200, a page
// seen twice or a listing longer than MaxListingPages is an error.
func ReadListing(ctx context.Context, c *httpcheck.Client, first string) (*Listing, error) {
	l := &Listing{}
	seen := map[string]bool{}
	for next := first; next != ""; {
		if seen[next] {
			return l, fmt.Errorf("listing %s: page %s links back to an earlier page (rel=next loops)", first, next)
		}
		if len(l.Pages) == MaxListingPages {
			return l, fmt.Errorf("listing %s: more than %d pages; is rel=next looping?", first, MaxListingPages)
		}
		seen[next] = true
		resp, err := c.Get(ctx, next, http.StatusOK)
		if err != nil {
			return l, err
		}
		grants, link, err := parsePage(resp.Body, next)
		if err != nil {
			return l, resp.Errorf("not a listing page: %v", err)
		}
		l.Pages = append(l.Pages, next)
		l.Grants = append(l.Grants, grants...)
		next = link
	}
	return l, nil
}

// Refs returns the refs listed, in order.
func (l *Listing) Refs() []string {
	out := make([]string, len(l.Grants))
	for i, g := range l.Grants {
		out[i] = g.Ref
	}
	return out
}

// parsePage reads the grants of one page and its rel=next link resolved
// against page ("" on the last page).
func parsePage(body []byte, page string) ([]Listed, string, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	base, err := url.Parse(page)
	if err != nil {
		return nil, "", err
	}
	var grants []Listed
	next := ""
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "article" && hasClass(n, "grant"):
				if ref := attr(n, "data-ref"); ref != "" {
					grants = append(grants, Listed{Ref: ref, Title: strings.TrimSpace(textOf(find(n, "title"))), Page: page})
				}
			case n.Data == "a" && next == "" && slices.Contains(strings.Fields(attr(n, "rel")), "next"):
				if u, err := url.Parse(attr(n, "href")); err == nil && attr(n, "href") != "" {
					next = base.ResolveReference(u).String()
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return grants, next, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return slices.Contains(strings.Fields(attr(n, "class")), class)
}

// find returns the first element under n with the class, or nil.
func find(n *html.Node, class string) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && hasClass(c, class) {
			return c
		}
		if f := find(c, class); f != nil {
			return f
		}
	}
	return nil
}

func textOf(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
