package loadbalancer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
)

func (it *item) tlsValid(ctx context.Context, r *flow.Recorder) error {
	k := it.tgt.Kube
	if k == nil || len(k.TLSHosts) == 0 {
		return fmt.Errorf("no public host to check (kube.tlsHosts in %s)", it.tgt.File)
	}
	var roots *x509.CertPool
	if k.TLSRootCA != "" {
		pem, err := os.ReadFile(k.TLSRootCA)
		if err != nil {
			return fmt.Errorf("kube.tlsRootCA: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("kube.tlsRootCA %s holds no PEM certificate", k.TLSRootCA)
		}
	}
	minDays := it.tgt.Thresholds.TLSMinDays
	now := it.c.now()
	var problems []string
	var ok []string
	for _, host := range k.TLSHosts {
		addr := k.TLSEndpoints[host]
		if addr == "" {
			addr = net.JoinHostPort(host, "443")
		}
		c, err := served(ctx, addr, host, it.tgt.HTTP.Timeout)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", host, err))
			continue
		}
		r.Logf("%s at %s: %s", host, addr, describe(c.leaf))
		if p := certProblem(c, host, roots, now, minDays); p != "" {
			problems = append(problems, fmt.Sprintf("%s (served at %s): %s", host, addr, p))
			continue
		}
		left := int(c.leaf.NotAfter.Sub(now).Hours() / 24)
		ok = append(ok, fmt.Sprintf("%s until %s (%d days)", host, c.leaf.NotAfter.UTC().Format("2006-01-02"), left))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	checklist.Evidence(r, "chain verified, name matches, at least %d days left: %s", minDays, strings.Join(ok, ", "))
	return nil
}

// chain is what a TLS server presented.
type chain struct {
	leaf          *x509.Certificate
	intermediates []*x509.Certificate
}

// served connects to addr with host as SNI and returns the certificates
// presented. Verification is done by certProblem, so that a failure says
// which check failed in words, not only Go's x509 error.
func served(ctx context.Context, addr, host string, timeout time.Duration) (chain, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: &tls.Config{
		ServerName: host, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // the chain, the name and the dates are verified by certProblem
	}}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return chain{}, fmt.Errorf("TLS connection to %s failed: %w", addr, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return chain{}, fmt.Errorf("%s presented no certificate", addr)
	}
	return chain{leaf: certs[0], intermediates: certs[1:]}, nil
}

func describe(c *x509.Certificate) string {
	return fmt.Sprintf("certificate CN=%q names %v, issuer %q, valid %s to %s", c.Subject.CommonName, c.DNSNames, c.Issuer.CommonName,
		c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
}

// certProblem says why the chain does not prove host for at least minDays
// more days, or "".
func certProblem(c chain, host string, roots *x509.CertPool, now time.Time, minDays int) string {
	leaf := c.leaf
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Sprintf("the certificate expired on %s (%d days ago; names %v): renew it", leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST"),
			int(now.Sub(leaf.NotAfter).Hours()/24), leaf.DNSNames)
	case now.Before(leaf.NotBefore):
		return fmt.Sprintf("the certificate is not valid before %s", leaf.NotBefore.UTC().Format("2006-01-02 15:04 MST"))
	}
	if err := leaf.VerifyHostname(host); err != nil {
		return fmt.Sprintf("the certificate is issued for %v (CN %q), not %s: install the certificate of this host", leaf.DNSNames, leaf.Subject.CommonName, host)
	}
	inter := x509.NewCertPool()
	for _, ic := range c.intermediates {
		inter.AddCert(ic)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter, CurrentTime: now}); err != nil {
		return fmt.Sprintf("the certificate chain does not verify (issuer %q): %v", leaf.Issuer.CommonName, err)
	}
	if left := leaf.NotAfter.Sub(now); left < time.Duration(minDays)*24*time.Hour {
		return fmt.Sprintf("the certificate expires on %s, in %d days: fewer than thresholds.tlsMinDays %d; renew it before deploying",
			leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST"), int(left.Hours()/24), minDays)
	}
	return ""
}
