// Package traffic is the runbook's one generator of read-only load, for a
// platform that has no users: the local platform and the drills. The
// error-rate and latency checks need requests to measure (fewer than
// thresholds.minSamples in a window is "no data", never healthy), and so
// does checklist item 7's baseline. Production has its users: New refuses
// a read-only target.
//
// Two ways to send: Send(ctx, n) sends n requests as fast as they are
// answered (a burst before one measurement); Start(ctx, rps) sends a steady
// rate until Stop (during the watch).
package traffic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
)

// Route is one read-only request on one service.
type Route struct{ Service, Path string }

// Routes are the requests the generator cycles through: cheap, read-only,
// the users' own routes on every service (the scraped grants are for a tag
// nobody uses).
var Routes = []Route{
	{target.BackendCore, "/search?query=grant&limit=5"},
	{target.DataService, "/scraper/grants?tag=runbook-traffic"},
	{target.WebFrontend, "/"},
	{target.BackendCore, "/search?category=innovation&page=2&limit=10"},
	{target.BackendCore, "/search?region=bretagne&limit=5"},
}

// Parallel is how many requests may be in flight at once.
const Parallel = 16

// Counts is what a generator did.
type Counts struct {
	Sent     int64 // requests started
	Answered int64 // got an HTTP answer, any status
	Failed   int64 // got no answer, or a 5xx
	Dropped  int64 // Start only: ticks that found Parallel requests in flight
	// LastErr is the last failure seen (no answer, or the 5xx's URL and
	// status), redacted; nil when none failed.
	LastErr error
}

func (c Counts) String() string {
	return fmt.Sprintf("%d requests sent, %d answered, %d failed, %d dropped", c.Sent, c.Answered, c.Failed, c.Dropped)
}

// Generator sends Routes to one target.
type Generator struct {
	urls   []string
	client *http.Client
	redact func(string) string
}

// New resolves Routes against the target's services. It refuses a
// read-only target and a route whose service has no URL.
func New(tgt *target.Target) (*Generator, error) {
	if tgt.ReadOnly {
		return nil, fmt.Errorf("traffic: %s is read-only (readOnly: true in %s): generated load is for the local platform", tgt.Env, tgt.File)
	}
	g := &Generator{redact: tgt.Redact}
	for _, r := range Routes {
		svc, ok := tgt.Service(r.Service)
		if !ok || svc.URL == "" {
			return nil, fmt.Errorf("traffic: service %s has no URL in %s", r.Service, tgt.File)
		}
		g.urls = append(g.urls, svc.URL+r.Path)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: Parallel, TLSClientConfig: httpcheck.TLSConfig(tgt.HTTP)}
	g.client = &http.Client{Timeout: tgt.HTTP.Timeout, Transport: tr}
	return g, nil
}

// Send sends n requests, round-robin over Routes, at most Parallel at
// once, and returns when all are answered or ctx ends.
func (g *Generator) Send(ctx context.Context, n int) Counts {
	var c counter
	g.loop(ctx, ctx, n, nil, &c)
	return c.counts()
}

// Run is a steady stream of requests started by Start.
type Run struct {
	cancel context.CancelFunc
	done   chan struct{}
	c      counter
}

// Start sends rps requests a second until Stop (or ctx ends). A tick
// that finds Parallel requests in flight is dropped, and counted. Stop
// lets the requests in flight finish (within the target's HTTP timeout):
// they are not failures.
func (g *Generator) Start(ctx context.Context, rps int) (*Run, error) {
	if rps <= 0 {
		return nil, fmt.Errorf("traffic: %d requests per second: want > 0", rps)
	}
	loopCtx, cancel := context.WithCancel(ctx)
	r := &Run{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		tick := time.NewTicker(time.Second / time.Duration(rps))
		defer tick.Stop()
		g.loop(loopCtx, ctx, -1, tick.C, &r.c)
	}()
	return r, nil
}

// Stop ends the stream, waits for the requests in flight and says what
// was sent.
func (r *Run) Stop() Counts {
	r.cancel()
	<-r.done
	return r.c.counts()
}

// loop sends n requests (n < 0: until ctx ends), each with reqCtx. With
// tick, one per tick, dropped when Parallel are in flight; without, as
// fast as a slot frees.
func (g *Generator) loop(ctx, reqCtx context.Context, n int, tick <-chan time.Time, c *counter) {
	defer g.client.CloseIdleConnections()
	sem := make(chan struct{}, Parallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; n < 0 || i < n; i++ {
		if tick != nil {
			select {
			case <-ctx.Done():
				return
			case <-tick:
			}
			select {
			case sem <- struct{}{}:
			default:
				c.dropped.Add(1)
				continue
			}
		} else {
			select {
			case <-ctx.Done():
				return
			case sem <- struct{}{}:
			}
		}
		url := g.urls[i%len(g.urls)]
		wg.Go(func() {
			defer func() { <-sem }()
			c.sent.Add(1)
			answered, err := g.get(reqCtx, url)
			if answered {
				c.answered.Add(1)
			}
			if err != nil {
				c.failed.Add(1)
				c.last.Store(err)
			}
		})
	}
}

// get sends one request. answered: an HTTP answer came back; err: none
// did, or it was a 5xx.
func (g *Generator) get(ctx context.Context, url string) (answered bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return false, errors.New(g.redact(err.Error()))
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drained for the connection's reuse; the status is the answer
	_ = resp.Body.Close()
	if resp.StatusCode >= 500 {
		return true, fmt.Errorf("GET %s: status %d", g.redact(url), resp.StatusCode)
	}
	return true, nil
}

type counter struct {
	sent, answered, failed, dropped atomic.Int64
	last                            atomic.Value // error
}

func (c *counter) counts() Counts {
	out := Counts{Sent: c.sent.Load(), Answered: c.answered.Load(), Failed: c.failed.Load(), Dropped: c.dropped.Load()}
	out.LastErr, _ = c.last.Load().(error)
	return out
}
