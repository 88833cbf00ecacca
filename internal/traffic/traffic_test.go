package traffic_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/internal/traffic"
)

// platform is every service of traffic.Routes on one test server; fail
// makes every tenth request answer 500.
func platform(t *testing.T, fail bool) (*target.Target, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 && fail {
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	tgt := &target.Target{Env: "local", File: "test.yaml", HTTP: target.HTTP{Timeout: 5 * time.Second}}
	for _, name := range []string{target.BackendCore, target.DataService, target.WebFrontend} {
		tgt.Services = append(tgt.Services, target.Service{Name: name, URL: srv.URL})
	}
	return tgt, &n
}

func TestSendCountsEveryRequest(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		tgt, seen := platform(t, false)
		g, err := traffic.New(tgt)
		require.NoError(t, err)
		c := g.Send(context.Background(), 50)
		assert.Equal(t, traffic.Counts{Sent: 50, Answered: 50}, c)
		assert.EqualValues(t, 50, seen.Load(), "the server saw every request")
	})
	t.Run("5xx_counted_as_failed", func(t *testing.T) {
		tgt, _ := platform(t, true)
		g, err := traffic.New(tgt)
		require.NoError(t, err)
		c := g.Send(context.Background(), 50)
		assert.EqualValues(t, 50, c.Answered)
		assert.EqualValues(t, 5, c.Failed)
		require.Error(t, c.LastErr)
		assert.Contains(t, c.LastErr.Error(), "status 500")
	})
}

func TestStartSendsUntilStop(t *testing.T) {
	tgt, seen := platform(t, false)
	g, err := traffic.New(tgt)
	require.NoError(t, err)
	run, err := g.Start(context.Background(), 200)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return seen.Load() >= 20 }, 10*time.Second, 10*time.Millisecond, "requests arrive at 200/s")
	c := run.Stop()
	assert.Equal(t, c.Sent, c.Answered, "Stop lets the requests in flight finish: %s", c)
	assert.Zero(t, c.Failed, "%s: %v", c, c.LastErr)
	assert.Equal(t, c.Sent, seen.Load(), "the server saw exactly the requests sent, none after Stop")
	_, err = g.Start(context.Background(), 0)
	assert.ErrorContains(t, err, "want > 0")
}

func TestRefusesAReadOnlyTarget(t *testing.T) {
	tgt, _ := platform(t, false)
	tgt.ReadOnly, tgt.Env = true, "prod"
	_, err := traffic.New(tgt)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "prod is read-only"), err.Error())
	tgt.ReadOnly = false
	tgt.Services = tgt.Services[:1]
	_, err = traffic.New(tgt)
	assert.ErrorContains(t, err, "service data-service has no URL")
}
