package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/wait"
)

// countingProm answers the request count query with requests() and every
// other query with 0, as a Prometheus that has counted no error.
func countingProm(t *testing.T, sel string, win time.Duration, requests func() int) *metrics.Client {
	t.Helper()
	countQuery := metrics.RequestCountExpr(sel, win)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		v := 0
		if r.Form.Get("query") == countQuery {
			v = requests()
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,"%d"]}]}}`, time.Now().Unix(), v)
	}))
	t.Cleanup(srv.Close)
	mc, err := metrics.New(srv.URL)
	require.NoError(t, err)
	return mc
}

func TestWaitForSamplesReturnsOnceTheRequestsAreCounted(t *testing.T) {
	var scrapes atomic.Int32
	mc := countingProm(t, `service="backend-core"`, 5*time.Minute, func() int {
		if scrapes.Add(1) < 2 {
			return 40 // the traffic is not scraped yet
		}
		return 250
	})
	rate, err := mc.WaitForSamples(t.Context(), `service="backend-core"`, 5*time.Minute, 200, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, 250.0, rate.Requests)
}

func TestWaitForSamplesTimesOutSayingTheRequestsLastCounted(t *testing.T) {
	mc := countingProm(t, `service="backend-core"`, 5*time.Minute, func() int { return 40 })
	rate, err := mc.WaitForSamples(t.Context(), `service="backend-core"`, 5*time.Minute, 200, 1500*time.Millisecond)
	var te *wait.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, metrics.ErrNoData)
	assert.Equal(t, 40.0, rate.Requests)
	assert.Contains(t, err.Error(), "waiting for Prometheus to count at least 200 requests in 5m0s: timed out after 1.5s; last seen: 40 requests (")
	assert.Contains(t, err.Error(), metrics.RequestCountExpr(`service="backend-core"`, 5*time.Minute))
}
