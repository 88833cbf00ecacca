//go:build !staging && !prod

package smoke_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke"
)

// refusing returns 127.0.0.1 addresses that refuse connections: each was
// listened on, then closed.
func refusing(tb testing.TB, n int) []string {
	tb.Helper()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(tb, err)
		out = append(out, l.Addr().String())
		require.NoError(tb, l.Close())
	}
	return out
}

// TestUnreachableEndpointsFailFast points a copy of the target at ports
// that refuse connections and runs the five flows: each must fail in well
// under the 30 s a CI gate allows, naming the endpoint it could not reach.
//
// A test binary cannot be built with -tags=prod from here; the same check
// against a prod build is run by hand, with a copy of
// environments/prod.yaml whose URLs are refusing 127.0.0.1 ports:
//
//	RUNBOOK_ENV_FILE=/tmp/prod-refusing.yaml RUNBOOK_PROD_DATABASE_URL=postgres://u:p@127.0.0.1:1/granter_db \
//	RUNBOOK_PROD_WEBHOOK_URL=http://127.0.0.1:1/hook go test ./smoke -tags=prod -count=1
func TestUnreachableEndpointsFailFast(t *testing.T) {
	addr := refusing(t, 5)
	u := *tgt
	u.Services = nil
	for i, s := range tgt.Services {
		s.URL = "http://" + addr[i]
		u.Services = append(u.Services, s)
	}
	u.Smoke.ListingURL = "http://" + addr[3] + "/grants?page=1"
	u.Database = &target.Database{Name: "granter_db",
		URL: target.NewSecret("RUNBOOK_TEST_DATABASE_URL", "postgres://granter:not-the-password@"+addr[4]+"/granter_db?sslmode=disable")}
	backend, data, frontend := u.Services[0].URL, u.Services[1].URL, u.Services[2].URL
	want := map[string][]string{
		"auth":    {"backend-core POST " + backend + "/auth/register unreachable", "connection refused"},
		"search":  {"backend-core GET " + backend + "/search", "unreachable", "connection refused"},
		"scraper": {"listing GET " + u.Smoke.ListingURL + " unreachable", "connection refused"},
		"ia":      {"data-service POST " + data + "/ia/extract unreachable", "connection refused"},
		"health": {
			"backend-core GET " + backend + "/health unreachable", "backend-core GET " + backend + "/health/ready unreachable",
			"data-service GET " + data + "/health/live unreachable", "web-frontend GET " + frontend + "/ unreachable",
			"database granter_db at 127.0.0.1:" + strings.Split(addr[4], ":")[1] + " (from RUNBOOK_TEST_DATABASE_URL): cannot connect",
		},
	}

	start := time.Now()
	results := smoke.RunAll(t.Context(), &u, smoke.Options{})
	took := time.Since(start)
	t.Logf("five flows against refusing endpoints: %s", took.Round(time.Millisecond))
	assert.Less(t, took, 10*time.Second, "unreachable endpoints must fail fast")
	for _, r := range results {
		require.True(t, r.Failed(), "flow %s passed against refusing endpoints:\n%s", r.Flow, r)
		msg := r.Err().Error()
		for _, w := range want[r.Flow] {
			assert.Contains(t, msg, w, "flow %s must name the endpoint", r.Flow)
		}
		assert.NotContains(t, msg, "not-the-password", "secrets never appear")
		t.Logf("%s failed in %s: %s", r.Flow, r.Duration.Round(time.Millisecond), msg)
	}
}

// TestHungEndpointsFailWithinTheTimeout points the flows at servers that
// accept requests and never answer: each must fail within a few request
// timeouts (here 1 s), naming the endpoint, and never hang.
func TestHungEndpointsFailWithinTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: frees the handlers so Close returns
	u := *tgt
	u.HTTP.Timeout = time.Second
	u.Services = nil
	for _, s := range tgt.Services {
		s.URL = srv.URL
		u.Services = append(u.Services, s)
	}
	u.Smoke.ListingURL = srv.URL + "/grants"
	u.Database = nil

	start := time.Now()
	results := smoke.RunAll(t.Context(), &u, smoke.Options{})
	took := time.Since(start)
	t.Logf("five flows against hung endpoints: %s", took.Round(time.Millisecond))
	// The slowest is auth: register times out, then its cleanup's login.
	assert.Less(t, took, 5*time.Second, "hung endpoints must fail within a few request timeouts")
	for _, r := range results {
		require.True(t, r.Failed(), "flow %s passed against hung endpoints:\n%s", r.Flow, r)
		assert.Contains(t, r.Err().Error(), srv.URL, "flow %s must name the endpoint", r.Flow)
		assert.Contains(t, r.Err().Error(), "no answer within 1s", "flow %s must say it timed out", r.Flow)
		t.Logf("%s failed in %s: %s", r.Flow, r.Duration.Round(time.Millisecond), r.Err())
	}
}
