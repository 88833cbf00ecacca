package postdeploy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
)

func healthManual(tgt *target.Target) string {
	var parts []string
	for _, s := range tgt.Services {
		parts = append(parts, "curl -fsS "+s.URL+s.Health)
	}
	return strings.Join(parts, "; ")
}

// health is Step 4.3: every service's health endpoint answers 200 with the
// runbook's healthy body (and the deployed version when it says one).
func (c *Checker) health(ctx context.Context, ev *Evidence) error {
	var urls, statuses []string
	var errs []error
	for _, svc := range c.Target.Services {
		cl, err := httpcheck.ForService(c.Target, svc.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		resp, _, err := cl.CheckHealth(ctx, svc.Health, c.Target.Version)
		if resp != nil {
			urls = append(urls, resp.URL)
			statuses = append(statuses, fmt.Sprint(resp.Status))
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ev.Logf("%s -> %d %s", resp.URL, resp.Status, resp.Excerpt())
		if svc.Name == target.BackendCore {
			ev.Set("body", resp.Excerpt())
		}
	}
	ev.Set("url", strings.Join(urls, ", "))
	ev.Set("status", strings.Join(statuses, ", "))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	ev.Summarize("%d services answer /health 200 healthy", len(c.Target.Services))
	return nil
}

func spotManual(tgt *target.Target) string {
	api := ""
	if s, ok := tgt.Service(target.BackendCore); ok {
		api = s.URL
	}
	return fmt.Sprintf(`curl -H "Authorization: Bearer {token}" %[1]s/auth/me; curl %[1]s/search?query=test; curl %[1]s/health`, api)
}

// spotChecks is Step 4.4: GET /auth/me with the token of a uniquely named
// user registered for the check (deleted afterwards), GET
// /search?query=test and GET /health on backend-core, each 200 with the
// body the runbook expects.
func (c *Checker) spotChecks(ctx context.Context, ev *Evidence) (err error) {
	api, err := httpcheck.ForService(c.Target, target.BackendCore)
	if err != nil {
		return err
	}
	var seen []string
	defer func() { ev.Set("endpoints", strings.Join(seen, "; ")) }()

	email := flow.Unique(c.Target.Smoke.UserPrefix+"spot-") + "@" + c.Target.Smoke.EmailDomain
	password := randomPassword()
	api.AddSecret(target.NewSecret("spot-check password", password))
	var user struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	}
	resp, err := api.PostJSON(ctx, "/auth/register", map[string]string{"email": email, "password": password, "name": "Runbook spot check"}, http.StatusCreated, &user)
	if err != nil {
		return fmt.Errorf("registering the spot-check user: %w", err)
	}
	ev.Logf("POST %s for %s -> %d", resp.URL, email, resp.Status)
	var login struct {
		Token string `json:"token"`
	}
	token := ""
	defer func() {
		// Delete the user whatever happened, on a fresh deadline.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if token == "" {
			var l struct {
				Token string `json:"token"`
			}
			if _, lerr := api.PostJSON(dctx, "/auth/login", map[string]string{"email": email, "password": password}, http.StatusOK, &l); lerr != nil {
				err = errors.Join(err, fmt.Errorf("cleanup: could not log in as %s to delete it: %w", email, lerr))
				return
			}
			token = l.Token
			api.AddSecret(target.NewSecret("bearer token", token))
		}
		if _, derr := api.Delete(dctx, "/auth/me", http.StatusNoContent, httpcheck.Bearer(token)); derr != nil {
			err = errors.Join(err, fmt.Errorf("cleanup: the spot-check user %s is left: %w", email, derr))
			return
		}
		ev.Logf("cleanup: deleted the spot-check user %s", email)
	}()
	resp, err = api.PostJSON(ctx, "/auth/login", map[string]string{"email": email, "password": password}, http.StatusOK, &login)
	if err != nil {
		return fmt.Errorf("logging in as the spot-check user: %w", err)
	}
	if login.Token == "" {
		return resp.Errorf("no token in the login answer")
	}
	token = login.Token
	api.AddSecret(target.NewSecret("bearer token", token))

	var me struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	}
	resp, err = api.GetJSON(ctx, "/auth/me", http.StatusOK, &me, httpcheck.Bearer(token))
	if resp != nil {
		seen = append(seen, fmt.Sprintf("GET /auth/me %d", resp.Status))
	}
	if err != nil {
		return err
	}
	if me.ID != user.ID || !strings.EqualFold(me.Email, email) {
		return resp.Errorf("answered user {id %q, email %q}, want the spot-check user {id %q, email %q}", me.ID, me.Email, user.ID, email)
	}
	ev.Logf("GET %s with a bearer token -> %d, user %s", resp.URL, resp.Status, me.Email)

	var page struct {
		Results []map[string]any `json:"results"`
		Total   *int             `json:"total"`
	}
	resp, err = api.GetJSON(ctx, "/search?query=test", http.StatusOK, &page)
	if resp != nil {
		seen = append(seen, fmt.Sprintf("GET /search?query=test %d", resp.Status))
	}
	if err != nil {
		return err
	}
	if page.Results == nil {
		return resp.Errorf(`want search results {"results":[...],...}; "results" is missing`)
	}
	ev.Logf("GET %s -> %d, %d results", resp.URL, resp.Status, len(page.Results))

	svc, _ := c.Target.Service(target.BackendCore)
	resp, _, err = api.CheckHealth(ctx, svc.Health, c.Target.Version)
	if resp != nil {
		seen = append(seen, fmt.Sprintf("GET %s %d", svc.Health, resp.Status))
	}
	if err != nil {
		return err
	}
	ev.Logf("GET %s -> %d %s", resp.URL, resp.Status, resp.Excerpt())
	ev.Summarize("%s", strings.Join(seen, "; "))
	return nil
}

func randomPassword() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return "Rb1-" + base64.RawURLEncoding.EncodeToString(b[:])
}
