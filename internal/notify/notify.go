// Package notify sends the runbook's team messages (Step 1.2 "Notify
// Operations Team", the rollback's "ROLLBACK IN PROGRESS" and "ROLLBACK
// COMPLETE") to a Slack-compatible incoming webhook.
//
// When a message fails, the error names the channel, the HTTP status and an
// excerpt of the answer; the webhook URL itself is a secret and is never
// printed.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Message is the Slack-compatible body: text, and optionally a channel.
type Message struct {
	Text    string `json:"text"`
	Channel string `json:"channel,omitempty"`
}

// Client posts messages to one webhook.
type Client struct {
	url     string // secret: never printed
	channel string
	http    *http.Client
}

// New makes a client for the webhook at webhookURL (a secret) posting to channel.
// Each post is bounded by timeout.
func New(webhookURL, channel string, timeout time.Duration) *Client {
	return &Client{url: webhookURL, channel: channel, http: &http.Client{Timeout: timeout,
		// A webhook answers; a redirect would send the message elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Error is a message the channel did not take.
type Error struct {
	Channel string
	Status  int // 0 when no answer came
	Body    string
	Err     error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("notify %s: no answer from the webhook: %v", e.Channel, e.Err)
	}
	return fmt.Sprintf("notify %s: webhook answered %d, want 2xx; body: %q", e.Channel, e.Status, e.Body)
}

func (e *Error) Unwrap() error { return e.Err }

// Send posts text and waits for a 2xx answer.
func (c *Client) Send(ctx context.Context, text string) error {
	body, err := json.Marshal(Message{Text: text, Channel: c.channel})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		// The error text of a bad URL quotes the URL: keep it out.
		return &Error{Channel: c.channel, Err: fmt.Errorf("malformed webhook URL")}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// net/http quotes the URL (re-serialised, or a redirect's) in a
		// *url.Error: keep only the cause, then scrub what is left.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &Error{Channel: c.channel, Err: scrub(err, c.url)}
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode/100 != 2 {
		return &Error{Channel: c.channel, Status: resp.StatusCode, Body: string(excerpt)}
	}
	return nil
}

// scrub removes the webhook URL from a transport error (net/http quotes it).
func scrub(err error, url string) error {
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), url, "[webhook URL]"))
}
