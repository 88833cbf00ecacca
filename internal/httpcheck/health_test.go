package httpcheck

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/internal/wait"
)

func TestHealthProblem(t *testing.T) {
	for _, tc := range []struct {
		name, body, version, want string
	}{
		{"healthy", `{"status":"healthy","services":{"database":"up","api":"up"}}`, "", ""},
		{"healthy at version", `{"status":"healthy","services":{"database":"up","api":"up"},"version":"v2"}`, "v2", ""},
		// The rollout expects v2: an answer that does not say its version
		// cannot show the new pods answer (a proxy, a stale build).
		{"no version said", `{"status":"healthy","services":{"database":"up","api":"up"}}`, "v2", `no "version" in the answer, want "v2" (the version being deployed)`},
		{"other version", `{"status":"healthy","services":{"database":"up","api":"up"},"version":"v1"}`, "v2", `version "v1", want "v2" (the version being deployed)`},
		{"degraded", `{"status":"degraded","services":{"database":"down","api":"up"}}`, "", `status "degraded", want "healthy"`},
		{"database down", `{"status":"healthy","services":{"database":"down","api":"up"}}`, "", `services.database "down", want "up"`},
		{"api missing", `{"status":"healthy","services":{"database":"up"}}`, "", `services.api missing, want "up"`},
		{"other dependency down", `{"status":"healthy","services":{"database":"up","api":"up","redis":"down"}}`, "", `services.redis "down", want "up"`},
		{"no services", `{"status":"healthy"}`, "", `no "services" object, want {"database":"up","api":"up"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Health
			require.NoError(t, json.Unmarshal([]byte(tc.body), &h))
			assert.Equal(t, tc.want, h.Problem(tc.version))
		})
	}
}

// healthServer answers 503 for the first `failures` requests, then body.
func healthServer(t *testing.T, failures int32, body string) *httptest.Server {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if n.Add(1) <= failures {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unhealthy","services":{"database":"down","api":"up"}}`))
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWaitHealthySucceedsOnceTheServiceIsHealthyAtTheVersion(t *testing.T) {
	srv := healthServer(t, 2, `{"status":"healthy","services":{"database":"up","api":"up"},"version":"v2"}`)
	c := New("backend-core", srv.URL, target.HTTP{Timeout: time.Second}, nil)
	var misses []int
	resp, h, err := c.WaitHealthy(t.Context(), "/health", "v2", 10*time.Second, func(attempt int, seen string) {
		misses = append(misses, attempt)
		assert.Contains(t, seen, "503")
	})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, misses)
	assert.Equal(t, 200, resp.Status)
	assert.Equal(t, "v2", h.Version)
}

func TestWaitHealthyTimesOutNamingTheURLVersionAndLastAnswer(t *testing.T) {
	srv := healthServer(t, 0, `{"status":"healthy","services":{"database":"up","api":"up"},"version":"v1"}`)
	c := New("backend-core", srv.URL, target.HTTP{Timeout: time.Second}, nil)
	_, _, err := c.WaitHealthy(t.Context(), "/health", "v2", 1200*time.Millisecond, nil)
	var te *wait.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "waiting for backend-core "+srv.URL+"/health to answer 200 healthy at version v2: timed out after 1.2s; last seen: ")
	assert.Contains(t, err.Error(), `version "v1", want "v2"`)
}
