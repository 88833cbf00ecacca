package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/granter/runbook/fixtures/prom"
	"github.com/granter/runbook/internal/metrics"
)

// testTimeout bounds each test's waits; every test stays well under 30s.
const testTimeout = 25 * time.Second

// service is a small HTTP service on 127.0.0.1 instrumented with the
// metric names of docs/API.md: http_requests_total{service,method,route,status}
// and http_request_duration_seconds{service,method,route}. Routes: /ok (200),
// /fail (500), /slow?ms=N (200 after N ms).
type service struct {
	Name    string
	BaseURL string
	http    *http.Client
}

var routes = []string{"/ok", "/fail", "/slow"}

func startService(tb testing.TB, name string) *service {
	tb.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "HTTP requests by status.",
	}, []string{"service", "method", "route", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "HTTP request latency.", Buckets: prometheus.DefBuckets,
	}, []string{"service", "method", "route"})
	reg.MustRegister(requests, duration,
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	// Create every series at zero before the first scrape: rate() cannot
	// count the first value of a series it first sees mid-window (see
	// package doc), so real services must do the same.
	for _, r := range routes {
		duration.WithLabelValues(name, http.MethodGet, r)
		for _, st := range []string{"200", "500"} {
			requests.WithLabelValues(name, http.MethodGet, r, st)
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"injected"}`, http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		// The delay is the behaviour under test (a slow handler), not a wait.
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			io.WriteString(w, "slow ok")
		case <-r.Context().Done():
		}
	})
	instrumented := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		duration.WithLabelValues(name, r.Method, r.URL.Path).Observe(time.Since(start).Seconds())
		requests.WithLabelValues(name, r.Method, r.URL.Path, strconv.Itoa(rec.status)).Inc()
	})
	root := http.NewServeMux()
	root.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	root.Handle("/", instrumented)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: root, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return &service{Name: name, BaseURL: "http://" + l.Addr().String(), http: &http.Client{Timeout: 5 * time.Second}}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Target is the scrape target of the service.
func (s *service) Target() prom.Target {
	return prom.Target{Job: s.Name, Service: s.Name, URL: s.BaseURL + "/metrics"}
}

// Selector picks the service's series.
func (s *service) Selector() string { return fmt.Sprintf("job=%q", s.Name) }

// send makes n requests to path, at most par at once, and checks each
// answers want.
func (s *service) send(tb testing.TB, path string, n, par, want int) {
	tb.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, par)
	)
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, err := s.http.Get(s.BaseURL + path)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					err = fmt.Errorf("GET %s%s: expected %d, seen %s", s.BaseURL, path, want, resp.Status)
				}
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		tb.Fatalf("%d of %d requests failed, first: %v", len(errs), n, errs[0])
	}
}

// traffic sends total requests of which failures answer 500.
func (s *service) traffic(tb testing.TB, total, failures int) {
	tb.Helper()
	s.send(tb, "/ok", total-failures, 4, http.StatusOK)
	s.send(tb, "/fail", failures, 4, http.StatusInternalServerError)
}

// platform is a Prometheus scraping some services.
type platform struct {
	prom *prom.Server
	m    *metrics.Client
}

// startPlatform starts Prometheus scraping svcs and waits until each was
// scraped once, so their zero-valued series are its first samples.
func startPlatform(tb testing.TB, cfg prom.Config, svcs ...*service) *platform {
	tb.Helper()
	for _, s := range svcs {
		cfg.Targets = append(cfg.Targets, s.Target())
	}
	p := &platform{prom: prom.StartT(tb, cfg)}
	p.m = p.prom.Metrics()
	ctx, cancel := context.WithTimeout(tb.Context(), testTimeout)
	defer cancel()
	for _, s := range svcs {
		if err := p.prom.WaitScraped(ctx, s.Name); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

// waitCount waits until Prometheus has scraped exactly n requests of svc:
// the event that makes the measurements below meaningful.
func (p *platform) waitCount(tb testing.TB, metric string, svc *service, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), testTimeout)
	defer cancel()
	q := fmt.Sprintf("sum(%s{%s})", metric, svc.Selector())
	if _, err := p.prom.WaitValue(ctx, q, fmt.Sprintf("== %d", n), func(v float64) bool { return v == float64(n) }); err != nil {
		tb.Fatal(err)
	}
}

// eventually polls f on a ticker until it says done or ctx ends; on timeout
// it fails with what it waited for and the last state f reported.
func eventually(tb testing.TB, ctx context.Context, what string, f func() (bool, string)) {
	tb.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := "not polled yet"
	for {
		var done bool
		if done, last = f(); done {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("waited for %s: %v; last seen: %s", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}
