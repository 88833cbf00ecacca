package browser_test

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/granter/runbook/internal/browser"
)

// TestPrivateCA: a page served with a certificate of a private CA opens
// only when the browser is given the key PinVerified proved that CA
// signed; without it, or with another server's key, chromium refuses it.
func TestPrivateCA(t *testing.T) {
	srv := httptest.NewUnstartedServer(site().Config.Handler)
	srv.StartTLS()
	defer srv.Close()
	// The private CA: httptest's certificate signs itself.
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}

	key, err := browser.PinVerified(t.Context(), srv.URL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := browser.PinVerified(t.Context(), srv.URL, &tls.Config{MinVersion: tls.VersionTLS12}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the private CA the certificate must not verify; got %v", err)
	}
	// Another key (httptest's servers all share one, so a made-up one).
	sum := sha256.Sum256([]byte("another server's public key"))
	otherKey := base64.StdEncoding.EncodeToString(sum[:])

	open := func(keys []string) error {
		s, err := browser.Start(t.Context(), browser.Options{Path: chromium, Timeout: 30 * time.Second, TrustedKeys: keys})
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		defer func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}()
		p, err := s.Open(srv.URL + "/")
		if err == nil && p.Title != "Home" {
			t.Fatalf("page read as %+v", p)
		}
		return err
	}
	if err := open([]string{key}); err != nil {
		t.Fatalf("with the verified key: %v", err)
	}
	if err := open(nil); err == nil || !strings.Contains(err.Error(), "ERR_CERT") {
		t.Fatalf("without a trusted key the page must be refused; got %v", err)
	}
	if err := open([]string{otherKey}); err == nil || !strings.Contains(err.Error(), "ERR_CERT") {
		t.Fatalf("another key must not open this server; got %v", err)
	}
}
