package httpcheck

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/internal/wait"
)

// HealthyBody is the runbook's healthy answer of GET /health (Step 3.3).
const HealthyBody = `{"status":"healthy","services":{"database":"up","api":"up"}}`

// HealthPoll is how often WaitHealthy asks again. A service answers on its
// own schedule; there is no event to wait on.
const HealthPoll = 500 * time.Millisecond

// Health is a /health answer (docs/API.md): {"status":"healthy",
// "services":{"database":"up","api":"up"}}, with "version" and "service"
// where the service says them. Every other dependency under "services" must
// be "up" too.
type Health struct {
	Status   string            `json:"status"`
	Services map[string]string `json:"services"`
	Version  string            `json:"version"`
	Service  string            `json:"service"`
}

// Problem says what is wrong with the answer, "" when it is the runbook's
// healthy answer and, when version is given, at that version: an answer
// that does not say its version cannot prove the rollout reached it.
func (h Health) Problem(version string) string {
	switch {
	case h.Status != "healthy":
		return fmt.Sprintf("status %q, want \"healthy\"", h.Status)
	case h.Services == nil:
		return `no "services" object, want {"database":"up","api":"up"}`
	}
	var down []string
	for _, dep := range []string{"database", "api"} {
		if st, ok := h.Services[dep]; !ok {
			down = append(down, fmt.Sprintf("services.%s missing", dep))
		} else if st != "up" {
			down = append(down, fmt.Sprintf("services.%s %q", dep, st))
		}
	}
	var other []string
	for dep, st := range h.Services {
		if dep != "database" && dep != "api" && st != "up" {
			other = append(other, fmt.Sprintf("services.%s %q", dep, st))
		}
	}
	sort.Strings(other)
	down = append(down, other...)
	switch {
	case len(down) > 0:
		return strings.Join(down, ", ") + `, want "up"`
	case version != "" && h.Version == "":
		return fmt.Sprintf(`no "version" in the answer, want %q (the version being deployed)`, version)
	case version != "" && h.Version != version:
		return fmt.Sprintf("version %q, want %q (the version being deployed)", h.Version, version)
	}
	return ""
}

// CheckHealth asks path once: 200 with the healthy answer at version (see
// Problem). A wrong answer is a *ContentError naming the URL and the body.
func (c *Client) CheckHealth(ctx context.Context, path, version string) (*Response, Health, error) {
	var h Health
	resp, err := c.GetJSON(ctx, path, http.StatusOK, &h)
	if err != nil {
		return resp, h, err
	}
	if p := h.Problem(version); p != "" {
		return resp, h, resp.Errorf("%s", p)
	}
	return resp, h, nil
}

// WaitHealthy asks path every HealthPoll until it answers as CheckHealth
// wants, at most timeout. Every failed look (unreachable, 503, a wrong
// body) is retried; notYet, when not nil, is told each one. On timeout the
// *wait.TimeoutError names the URL, the version and the last answer seen.
func (c *Client) WaitHealthy(ctx context.Context, path, version string, timeout time.Duration, notYet func(attempt int, seen string)) (*Response, Health, error) {
	var resp *Response
	var h Health
	attempt := 0
	name := fmt.Sprintf("%s %s to answer 200 healthy", c.Name, c.Redact(c.url(path)))
	if version != "" {
		name += " at version " + version
	}
	err := wait.Poll(ctx, name, HealthPoll, timeout, func(ctx context.Context) (bool, string, error) {
		attempt++
		r, got, err := c.CheckHealth(ctx, path, version)
		if err != nil {
			if notYet != nil && ctx.Err() == nil {
				notYet(attempt, err.Error())
			}
			return false, err.Error(), nil
		}
		resp, h = r, got
		return true, "", nil
	})
	return resp, h, err
}
