package httpcheck

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/granter/runbook/internal/target"
)

// Defaults. The request timeout comes from the target (http.timeout).
const (
	// DialTimeout bounds one connection attempt, so that an endpoint that
	// drops packets fails as fast as one that refuses.
	DialTimeout = 3 * time.Second
	// TLSHandshakeTimeout bounds the TLS handshake.
	TLSHandshakeTimeout = 5 * time.Second
	// MaxBody is the most of a response body a check reads.
	MaxBody = 4 << 20
	// ExcerptLen is the most of a body an error message shows.
	ExcerptLen = 300
)

// Client calls one endpoint (a Granter service, or any URL with a name).
// It is safe for concurrent use.
type Client struct {
	// Name is what messages call the endpoint: backend-core, listing, ...
	Name string
	// Base is the URL paths are joined to, without a trailing slash.
	Base string

	timeout time.Duration
	hc      *http.Client
	redact  func(string) string

	mu      sync.Mutex
	secrets []target.Secret
}

// New returns a client for the endpoint called name at base, with the
// target's HTTP settings. redact is applied to every message (pass
// tgt.Redact; nil means no target secrets).
func New(name, base string, h target.HTTP, redact func(string) string) *Client {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   TLSHandshakeTimeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       TLSConfig(h),
	}
	if redact == nil {
		redact = func(s string) string { return s }
	}
	return &Client{
		Name:    name,
		Base:    strings.TrimSuffix(base, "/"),
		timeout: timeout,
		// No Client.Timeout: each request gets a context deadline instead, so
		// a timeout can be told apart from the caller's own deadline.
		hc: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a check sees the redirect, it does not follow it
		}},
		redact: redact,
	}
}

// TLSConfig is the TLS side of every HTTP client of the runbook: the
// target's roots (http.rootCA added to the system's), and no verification
// only where the target says InsecureTLS (local only: target.Load refuses
// it elsewhere).
func TLSConfig(h target.HTTP) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: h.RootCAs, InsecureSkipVerify: h.InsecureTLS} //nolint:gosec // local target only
}

// ForService returns a client for the named service of the target. It fails
// when the target does not list the service or gives it no URL.
func ForService(tgt *target.Target, name string) (*Client, error) {
	svc, ok := tgt.Service(name)
	if !ok {
		return nil, fmt.Errorf("%s: the target (%s) lists no such service", name, tgt.File)
	}
	if svc.URL == "" {
		return nil, fmt.Errorf("%s: no URL (services[].url in %s, or the local platform did not start)", name, tgt.File)
	}
	return New(name, svc.URL, tgt.HTTP, tgt.Redact), nil
}

// Timeout is the per-request timeout.
func (c *Client) Timeout() time.Duration { return c.timeout }

// AddSecret makes the client redact a value learnt at run time (a smoke
// user's password, a bearer token) from every message it produces.
func (c *Client) AddSecret(s target.Secret) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets = append(c.secrets, s)
}

// Redact removes every secret the client knows from text: the target's,
// the client's own, and anything that looks like a token or a password.
func (c *Client) Redact(text string) string {
	c.mu.Lock()
	own := append([]target.Secret(nil), c.secrets...)
	c.mu.Unlock()
	return redactPatterns(target.Redact(c.redact(text), own...))
}

// Option sets something on one request.
type Option func(*http.Request)

// Bearer sends "Authorization: Bearer <token>". The header never appears
// in a message; add the token with AddSecret so a body echoing it is
// redacted too.
func Bearer(token string) Option {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// Header sets one request header.
func Header(key, value string) Option {
	return func(r *http.Request) { r.Header.Set(key, value) }
}

// Response is one answer, read in full (up to MaxBody).
type Response struct {
	Service  string
	Method   string
	URL      string // redacted
	Status   int
	Header   http.Header
	Body     []byte
	Duration time.Duration // from sending the request to the last byte of the body

	excerpt func() string
}

// String reads like a log line: "GET http://.../health -> 200 in 4ms".
func (r *Response) String() string {
	return fmt.Sprintf("%s %s -> %d in %s", r.Method, r.URL, r.Status, r.Duration.Round(time.Millisecond))
}

// Excerpt is the body as an error message shows it: at most ExcerptLen
// characters, whitespace collapsed, secrets redacted.
func (r *Response) Excerpt() string { return r.excerpt() }

// Errorf reports that the response says something other than expected. The
// message names the endpoint, the status and an excerpt of the body.
func (r *Response) Errorf(format string, args ...any) error {
	return &ContentError{Service: r.Service, Method: r.Method, URL: r.URL, Status: r.Status,
		Problem: fmt.Sprintf(format, args...), Body: r.Excerpt()}
}

// Do sends one request. path is joined to Base unless it is an absolute
// URL. body, when not nil, is sent as JSON. A status other than want is a
// *StatusError (the Response is returned with it); when out is not nil the
// body is decoded into it as JSON, a failure being a *DecodeError.
func (c *Client) Do(ctx context.Context, method, path string, body any, want int, out any, opts ...Option) (*Response, error) {
	u := c.url(path)
	shown := c.Redact(u)
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, &RequestError{Service: c.Name, Method: method, URL: shown, Err: fmt.Errorf("encode request body: %w", err)}
		}
		rd = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, u, rd)
	if err != nil {
		return nil, &RequestError{Service: c.Name, Method: method, URL: shown, Err: errors.New(c.Redact(err.Error()))}
	}
	req.Header.Set("Accept", "application/json, text/html;q=0.9")
	req.Header.Set("User-Agent", "granter-runbook")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.classify(ctx, method, shown, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return nil, c.classify(ctx, method, shown, fmt.Errorf("reading the body: %w", err))
	}
	r := &Response{Service: c.Name, Method: method, URL: shown, Status: resp.StatusCode, Header: resp.Header,
		Body: data, Duration: time.Since(start)}
	r.excerpt = func() string { return excerpt(c.Redact(string(data))) }
	if want != 0 && resp.StatusCode != want {
		return r, &StatusError{Service: c.Name, Method: method, URL: shown, Want: want, Got: resp.StatusCode, Body: r.Excerpt()}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return r, &DecodeError{Service: c.Name, Method: method, URL: shown, Status: resp.StatusCode,
				Err: errors.New(c.Redact(err.Error())), Body: r.Excerpt()}
		}
	}
	return r, nil
}

// GetJSON: GET path, expect status want, decode the body into out.
func (c *Client) GetJSON(ctx context.Context, path string, want int, out any, opts ...Option) (*Response, error) {
	return c.Do(ctx, http.MethodGet, path, nil, want, out, opts...)
}

// PostJSON: POST body as JSON to path, expect status want, decode into out
// (nil: do not decode).
func (c *Client) PostJSON(ctx context.Context, path string, body any, want int, out any, opts ...Option) (*Response, error) {
	return c.Do(ctx, http.MethodPost, path, body, want, out, opts...)
}

// Get: GET path, expect status want, keep the body as it is (HTML).
func (c *Client) Get(ctx context.Context, path string, want int, opts ...Option) (*Response, error) {
	return c.Do(ctx, http.MethodGet, path, nil, want, nil, opts...)
}

// Delete: DELETE path, expect status want.
func (c *Client) Delete(ctx context.Context, path string, want int, opts ...Option) (*Response, error) {
	return c.Do(ctx, http.MethodDelete, path, nil, want, nil, opts...)
}

// CloseIdleConnections releases the client's idle connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

func (c *Client) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return c.Base + path
}

// classify turns a transport error into the typed error a reader can act on.
func (c *Client) classify(parent context.Context, method, shown string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // url.Error repeats the method and the unredacted URL
	}
	clean := errors.New(c.Redact(err.Error()))
	if parent.Err() != nil {
		// The caller's own deadline (the flow's), not the request timeout.
		return &RequestError{Service: c.Name, Method: method, URL: shown,
			Err: fmt.Errorf("stopped by the caller: %w", context.Cause(parent))}
	}
	if cause, ok := unreachable(err); ok {
		return &UnreachableError{Service: c.Name, Method: method, URL: shown, Cause: c.Redact(cause), Err: clean}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &TimeoutError{Service: c.Name, Method: method, URL: shown, After: c.timeout}
	}
	return &RequestError{Service: c.Name, Method: method, URL: shown, Err: clean}
}

// unreachable reports whether err happened before a connection was made,
// and says why in a few words.
func unreachable(err error) (string, bool) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "DNS: " + dnsErr.Error(), true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		if opErr.Timeout() {
			return fmt.Sprintf("dial timeout after %s (no answer from the host: firewall, wrong address, or down)", DialTimeout), true
		}
		if opErr.Err != nil {
			return opErr.Err.Error(), true
		}
		return opErr.Error(), true
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalid):
		return "TLS certificate not valid: " + err.Error(), true
	case errors.As(err, &recErr):
		return "TLS handshake failed (is it plain HTTP?): " + err.Error(), true
	case strings.Contains(err.Error(), "TLS handshake timeout"):
		return fmt.Sprintf("TLS handshake timeout after %s", TLSHandshakeTimeout), true
	}
	return "", false
}
