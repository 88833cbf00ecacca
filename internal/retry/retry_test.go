package retry_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/retry"
	"github.com/granter/runbook/internal/target"
)

// healthServer answers /health 503 for the first failures requests, then
// 200 healthy.
func healthServer(t *testing.T, failures int32) *httptest.Server {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if n.Add(1) <= failures {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unhealthy","services":{"database":"down","api":"up"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"healthy","services":{"database":"up","api":"up"}}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func healthCheck(base string) func(context.Context) error {
	cl := httpcheck.New("backend-core", base, target.HTTP{Timeout: 2 * time.Second}, nil)
	return func(ctx context.Context) error {
		_, _, err := cl.CheckHealth(ctx, "/health", "")
		return err
	}
}

// closedPort is an address where nothing listens: a dial error, as when
// the runbook's host has lost its network.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// The rule's "fails, and fails again on an immediate retry", applied to a
// health check (Step 4.3): twice is broken, once is intermittent, and a
// failure on the runbook's side is no verdict at all.
func TestRetryCoreCheck(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T) (context.Context, func(context.Context) error)
		want retry.Verdict
	}{
		{"health fails twice: core broken", func(t *testing.T) (context.Context, func(context.Context) error) {
			return ctx, healthCheck(healthServer(t, 2).URL)
		}, retry.Broken},
		{"health fails once then passes: intermittent", func(t *testing.T) (context.Context, func(context.Context) error) {
			return ctx, healthCheck(healthServer(t, 1).URL)
		}, retry.Flaky},
		{"healthy", func(t *testing.T) (context.Context, func(context.Context) error) {
			return ctx, healthCheck(healthServer(t, 0).URL)
		}, retry.Passed},
		{"nothing reachable (dial error): the runbook's side", func(t *testing.T) (context.Context, func(context.Context) error) {
			return ctx, healthCheck(closedPort(t))
		}, retry.Inconclusive},
		{"one service answers 503, another unreachable: the release's side", func(t *testing.T) (context.Context, func(context.Context) error) {
			a, b := healthCheck(healthServer(t, 99).URL), healthCheck(closedPort(t))
			return ctx, func(ctx context.Context) error { return errors.Join(a(ctx), b(ctx)) }
		}, retry.Broken},
		{"interrupted (Ctrl-C) during the check", func(t *testing.T) (context.Context, func(context.Context) error) {
			c, cancel := context.WithCancel(ctx)
			check := healthCheck(healthServer(t, 99).URL)
			return c, func(ctx context.Context) error { cancel(); return check(ctx) }
		}, retry.Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, run := tc.run(t)
			got := retry.Once(c, run)
			if got.Verdict != tc.want {
				t.Fatalf("verdict %s, want %s (first error: %v; on the retry: %v)", got.Verdict, tc.want, got.First, got.Again)
			}
			if (got.Err() != nil) != (tc.want == retry.Broken || tc.want == retry.Inconclusive) {
				t.Errorf("Err() = %v for verdict %s", got.Err(), got.Verdict)
			}
		})
	}
}
