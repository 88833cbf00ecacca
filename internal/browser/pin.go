package browser

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
)

// PinVerified connects to rawURL's host over TLS with cfg (the target's
// roots: the system's plus http.rootCA), which verifies the certificate
// chain and the host name as every other client of the runbook does, and
// returns the base64 sha256 of the served certificate's public key, for
// Options.TrustedKeys. Chromium has no way to be given a CA file; it is
// given instead the one key this check proved the private CA signed for
// that host, so the browser accepts that server and nothing else.
func PinVerified(ctx context.Context, rawURL string, cfg *tls.Config) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%s is not an https:// URL", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	c := cfg.Clone()
	c.ServerName = u.Hostname()
	d := tls.Dialer{Config: c}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("TLS to %s, verified against the target's roots (http.rootCA): %w", addr, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", fmt.Errorf("TLS to %s: no certificate served", addr)
	}
	sum := sha256.Sum256(certs[0].RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}
