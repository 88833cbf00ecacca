package httpcheck

import (
	"fmt"
	"time"
)

// StatusError: the endpoint answered with a status other than the one the
// contract gives.
type StatusError struct {
	Service string // backend-core, or the name the Client was given
	Method  string
	URL     string
	Want    int
	Got     int
	Body    string // excerpt, at most 300 characters, secrets redacted
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s %s: status %d, want %d; body: %s", e.Service, e.Method, e.URL, e.Got, e.Want, quoteBody(e.Body))
}

// DecodeError: the body is not the JSON the contract gives.
type DecodeError struct {
	Service string
	Method  string
	URL     string
	Status  int
	Err     error
	Body    string // excerpt, secrets redacted
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s %s %s: status %d but the body is not the expected JSON (%v); body: %s",
		e.Service, e.Method, e.URL, e.Status, e.Err, quoteBody(e.Body))
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ContentError: the response decoded but says something other than what the
// check expects. Made by Response.Errorf.
type ContentError struct {
	Service string
	Method  string
	URL     string
	Status  int
	Problem string // expected vs seen, in words
	Body    string // excerpt, secrets redacted
}

func (e *ContentError) Error() string {
	return fmt.Sprintf("%s %s %s: %s (status %d; body: %s)", e.Service, e.Method, e.URL, e.Problem, e.Status, quoteBody(e.Body))
}

// UnreachableError: no connection could be made (refused, DNS, dial
// timeout, TLS handshake or certificate). The endpoint is named so the
// reader knows which line of environments/<env>.yaml to check.
type UnreachableError struct {
	Service string
	Method  string
	URL     string
	Cause   string // "connect: connection refused", "dial timeout after 3s", ...
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s %s %s unreachable: %s", e.Service, e.Method, e.URL, e.Cause)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// TimeoutError: the endpoint accepted the request but did not answer within
// the target's request timeout (http.timeout).
type TimeoutError struct {
	Service string
	Method  string
	URL     string
	After   time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s %s %s: no answer within %s (http.timeout); the service is hung or overloaded", e.Service, e.Method, e.URL, e.After)
}

// RequestError: the request failed for another reason (connection reset
// mid-answer, the caller's deadline, a body that could not be read).
type RequestError struct {
	Service string
	Method  string
	URL     string
	Err     error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("%s %s %s: %s", e.Service, e.Method, e.URL, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

func quoteBody(b string) string {
	if b == "" {
		return "(empty)"
	}
	return b
}
