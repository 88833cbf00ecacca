package monitor

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/granter/runbook/internal/target"
)

// Traffic is steady read-only load on the services, for drills and tests
// on a platform that has no users: the rate and latency metrics need
// requests (fewer than thresholds.minSamples in a window is "no data",
// never healthy). Production has its users; never point Traffic at it
// (StartTraffic refuses a read-only target).
type Traffic struct {
	sent, failed, dropped atomic.Int64
	cancel                context.CancelFunc
	done                  chan struct{}
}

// trafficPaths are the requests Traffic cycles through: cheap, read-only,
// on every service.
var trafficPaths = []struct{ service, path string }{
	{target.BackendCore, "/search?query=research&limit=5"},
	{target.BackendCore, "/health"},
	{target.DataService, "/scraper/grants?tag=runbook-traffic"},
	{target.BackendCore, "/search?category=innovation&page=2&limit=10"},
	{target.DataService, "/health"},
	{target.WebFrontend, "/"},
	{target.BackendCore, "/search?region=bretagne&limit=5"},
	{target.WebFrontend, "/health"},
}

// StartTraffic sends rps requests per second until Stop (or ctx ends),
// at most 16 at once (a tick that finds 16 in flight is dropped, counted).
func StartTraffic(ctx context.Context, tgt *target.Target, rps int) (*Traffic, error) {
	if tgt.ReadOnly {
		return nil, fmt.Errorf("monitor: traffic: %s is read-only (readOnly: true in %s): generated load is for the local platform", tgt.Env, tgt.File)
	}
	if rps <= 0 {
		return nil, fmt.Errorf("monitor: traffic: %d requests per second: want > 0", rps)
	}
	urls := make([]string, 0, len(trafficPaths))
	for _, p := range trafficPaths {
		svc, ok := tgt.Service(p.service)
		if !ok || svc.URL == "" {
			return nil, fmt.Errorf("monitor: traffic: service %s has no URL", p.service)
		}
		urls = append(urls, svc.URL+p.path)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16, TLSClientConfig: &tls.Config{InsecureSkipVerify: tgt.HTTP.InsecureTLS}} //nolint:gosec // local only (target.HTTP)
	client := &http.Client{Timeout: tgt.HTTP.Timeout, Transport: tr}
	ctx, cancel := context.WithCancel(ctx)
	t := &Traffic{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		defer tr.CloseIdleConnections()
		sem := make(chan struct{}, 16)
		var wg sync.WaitGroup
		defer wg.Wait()
		tick := time.NewTicker(time.Second / time.Duration(rps))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				t.dropped.Add(1)
				continue
			}
			url := urls[i%len(urls)]
			wg.Go(func() {
				defer func() { <-sem }()
				t.sent.Add(1)
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					t.failed.Add(1)
					return
				}
				resp, err := client.Do(req)
				if err != nil {
					t.failed.Add(1)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.failed.Add(1)
				}
			})
		}
	}()
	return t, nil
}

// Stop ends the traffic, waits for the requests in flight and says how
// many were sent, failed (5xx or no answer) and dropped.
func (t *Traffic) Stop() (sent, failed, dropped int64) {
	t.cancel()
	<-t.done
	return t.sent.Load(), t.failed.Load(), t.dropped.Load()
}
