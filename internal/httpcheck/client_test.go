package httpcheck

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/target"
)

// refusingURL returns an http URL on 127.0.0.1 whose port refuses
// connections: it was listened on, then closed.
func refusingURL(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := l.Addr().String()
	require.NoError(tb, l.Close())
	return "http://" + addr
}

func TestUnreachableNamesTheEndpoint(t *testing.T) {
	base := refusingURL(t)
	c := New("backend-core", base, target.HTTP{Timeout: 5 * time.Second}, nil)
	start := time.Now()
	_, err := c.GetJSON(t.Context(), "/health", http.StatusOK, nil)
	var ue *UnreachableError
	require.ErrorAs(t, err, &ue)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Contains(t, err.Error(), "backend-core GET "+base+"/health unreachable: ")
	assert.Contains(t, err.Error(), "connection refused")
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := New("data-service", srv.URL, target.HTTP{Timeout: 200 * time.Millisecond}, nil)
	start := time.Now()
	_, err := c.GetJSON(t.Context(), "/ia/extract", http.StatusOK, nil)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Contains(t, err.Error(), "data-service GET "+srv.URL+"/ia/extract: no answer within 200ms")
}

func TestCallerDeadlineIsNotATimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	c := New("backend-core", srv.URL, target.HTTP{Timeout: 5 * time.Second}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := c.GetJSON(ctx, "/search", http.StatusOK, nil)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, err.Error(), "stopped by the caller")
}

func TestStatusErrorRedactsSecrets(t *testing.T) {
	const dbPassword = "s3cr3t-db-pass"
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig-nature"
	const password = "smoke-password-123"
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"error":"dial postgres://granter:%s@db:5432 failed","echo":"Bearer %s","pw":"%s","token":"%s"}`+strings.Repeat(" pad", 200),
			dbPassword, token, password, token)
	}))
	t.Cleanup(srv.Close)
	redactTarget := func(s string) string {
		return target.Redact(s, target.NewSecret("RUNBOOK_PROD_DATABASE_URL", "postgres://granter:"+dbPassword+"@db:5432/granter_db"))
	}
	c := New("backend-core", srv.URL, target.HTTP{Timeout: 2 * time.Second}, redactTarget)
	c.AddSecret(target.NewSecret("smoke user password", password))
	_, err := c.GetJSON(t.Context(), "/auth/me", http.StatusOK, nil, Bearer(token))
	require.Equal(t, "Bearer "+token, gotAuth, "the token is sent")
	var se *StatusError
	require.ErrorAs(t, err, &se)
	msg := err.Error()
	for _, secret := range []string{dbPassword, token, password} {
		assert.NotContains(t, msg, secret)
	}
	assert.Contains(t, msg, "status 500, want 200")
	assert.Contains(t, msg, "[REDACTED:smoke user password]")
	assert.LessOrEqual(t, len([]rune(se.Body)), ExcerptLen+40, "excerpt is bounded")
	assert.Contains(t, se.Body, "more characters)")
}

func TestDecodeAndContentErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/html" {
			fmt.Fprint(w, "<html>oops</html>")
			return
		}
		fmt.Fprint(w, `{"status":"unhealthy"}`)
	}))
	t.Cleanup(srv.Close)
	c := New("web-frontend", srv.URL, target.HTTP{Timeout: 2 * time.Second}, nil)

	var v struct{ Status string }
	_, err := c.GetJSON(t.Context(), "/html", http.StatusOK, &v)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "<html>oops</html>")

	resp, err := c.GetJSON(t.Context(), "/health", http.StatusOK, &v)
	require.NoError(t, err)
	assert.Positive(t, resp.Duration)
	cerr := resp.Errorf("status %q, want %q", v.Status, "healthy")
	var ce *ContentError
	require.True(t, errors.As(cerr, &ce))
	assert.Equal(t, fmt.Sprintf(`web-frontend GET %s/health: status "unhealthy", want "healthy" (status 200; body: {"status":"unhealthy"})`, srv.URL), cerr.Error())
}

func TestRedirectIsNotFollowed(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("/login", http.StatusFound))
	t.Cleanup(srv.Close)
	c := New("web-frontend", srv.URL, target.HTTP{Timeout: 2 * time.Second}, nil)
	_, err := c.Get(t.Context(), "/", http.StatusOK)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusFound, se.Got)
}

func TestTLSVerifiedUnlessInsecure(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{}") }))
	t.Cleanup(srv.Close)
	strict := New("backend-core", srv.URL, target.HTTP{Timeout: 2 * time.Second}, nil)
	_, err := strict.Get(t.Context(), "/", http.StatusOK)
	var ue *UnreachableError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "TLS certificate not valid")

	insecure := New("backend-core", srv.URL, target.HTTP{Timeout: 2 * time.Second, InsecureTLS: true}, nil)
	_, err = insecure.Get(t.Context(), "/", http.StatusOK)
	require.NoError(t, err)
}

// A service behind a private CA is verified against the CA the target's
// file names (http.rootCA), with no insecureTLS: staging and prod behind a
// company CA, and make rehearse's local CA (found by make rehearse: before,
// such a target was unreachable without insecureTLS, which staging and
// prod refuse).
func TestTLSVerifiedAgainstTheFilesRootCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{}") }))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	file := filepath.Join(dir, "environments", "local.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o700))
	require.NoError(t, os.WriteFile(file, []byte(minimalFile+"http: {rootCA: "+ca+"}\n"), 0o600))
	tgt, err := target.LoadFile(file, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.NotNil(t, tgt.HTTP.RootCAs)
	require.False(t, tgt.HTTP.InsecureTLS)
	_, err = New("backend-core", srv.URL, tgt.HTTP, nil).Get(t.Context(), "/", http.StatusOK)
	require.NoError(t, err)
}

// minimalFile is the least a local environment file holds.
const minimalFile = `name: local
services:
  - {name: backend-core, image: granter/backend-core}
  - {name: data-service, image: granter/data-service}
  - {name: web-frontend, image: granter/web-frontend}
thresholds: {errorRate: "0.1%", rollbackErrorRate: "1%", apiP95: 200ms, dbQuery: 100ms, cpu: "70%", activeConnections: 100, minSamples: 100, rolloutTimeout: 5m, drainGrace: 30s, rollbackBudget: 15m, backupMaxAge: 2h, tlsMinDays: 14}
migrations: {expected: ["20260127000050"]}
backup: {dir: /tmp}
`

func TestForService(t *testing.T) {
	tgt := &target.Target{File: "environments/local.yaml", Services: []target.Service{{Name: "backend-core"}}}
	_, err := ForService(tgt, "backend-core")
	require.ErrorContains(t, err, "backend-core: no URL")
	_, err = ForService(tgt, "nope")
	require.ErrorContains(t, err, "lists no such service")
}
