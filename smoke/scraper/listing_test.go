package scraper

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePage(t *testing.T) {
	page := []byte(`<!doctype html><html><body><section class="grants">
<article class="grant" data-ref="LST-0001">
  <h2 class="title">Listing call 1: Marine biology</h2>
  <p>Amount: <span class="amount" data-value="5000">5 000 €</span></p>
</article>
<article data-ref="LST-0002" class="grant featured"><h2 class="title"> Listing call 2 &amp; more </h2></article>
<article class="news" data-ref="NEWS-1"></article>
</section>
<nav><a rel="prev" href="/grants">prev</a> <a href="?page=3" rel="next">next</a></nav></body></html>`)
	grants, next, err := parsePage(page, "http://127.0.0.1:8080/grants?page=2")
	require.NoError(t, err)
	assert.Equal(t, []Listed{
		{Ref: "LST-0001", Title: "Listing call 1: Marine biology", Page: "http://127.0.0.1:8080/grants?page=2"},
		{Ref: "LST-0002", Title: "Listing call 2 & more", Page: "http://127.0.0.1:8080/grants?page=2"},
	}, grants)
	assert.Equal(t, "http://127.0.0.1:8080/grants?page=3", next)

	_, next, err = parsePage([]byte(`<html><body><article class="grant" data-ref="X"></article></body></html>`), "http://h/grants")
	require.NoError(t, err)
	assert.Empty(t, next, "the last page has no rel=next")
}

func TestDiffAndDuplicates(t *testing.T) {
	missing, extra := diff([]string{"a", "b", "c"}, []string{"b", "c", "c", "d"})
	assert.Equal(t, []string{"a"}, missing)
	assert.Equal(t, []string{"d"}, extra)
	assert.Equal(t, []string{"c"}, duplicates([]string{"b", "c", "c", "c"}))
}
