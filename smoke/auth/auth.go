package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
)

// Timeout bounds the whole flow (every request also has the target's
// http.timeout).
const Timeout = 2 * time.Minute

// user is what register, login and /auth/me say about a user.
type user struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

type loginAnswer struct {
	Token     string `json:"token"`
	TokenType string `json:"token_type"`
	ExpiresIn int    `json:"expires_in"`
	User      user   `json:"user"`
}

// run is the state one run of the flow shares between its steps.
type run struct {
	tgt      *target.Target
	api      *httpcheck.Client
	email    string
	name     string
	password string
	// attempted: a register request was sent (it may have created the user
	// even if its answer was lost); created: it answered 201.
	attempted, created, deleted bool
	id                          string
	token                       string
}

// New returns the auth flow for the target: register a uniquely named
// smoke user, log in, read /auth/me with the token, check that missing and
// tampered tokens get 401, delete the user, and check it is gone. The
// cleanup deletes the user whatever step failed.
func New(tgt *target.Target) flow.Flow {
	r := &run{tgt: tgt}
	return flow.Flow{
		Name:    "auth",
		Timeout: Timeout,
		Redact:  tgt.Redact,
		Steps: []flow.Step{
			{Name: "register", Run: r.register},
			{Name: "register_again_409", Run: r.registerAgain},
			{Name: "login", Run: r.login},
			{Name: "login_wrong_password_401", Run: r.loginWrongPassword},
			{Name: "me", Run: r.me},
			{Name: "me_without_token_401", Run: r.meWithoutToken},
			{Name: "me_tampered_token_401", Run: r.meTamperedToken},
			{Name: "delete", Run: r.delete},
			{Name: "login_after_delete_401", Run: r.loginAfterDelete},
		},
		Cleanup: r.cleanup,
	}
}

func (r *run) register(ctx context.Context, rec *flow.Recorder) error {
	api, err := httpcheck.ForService(r.tgt, target.BackendCore)
	if err != nil {
		return err
	}
	r.api = api
	r.email = flow.Unique(r.tgt.Smoke.UserPrefix) + "@" + r.tgt.Smoke.EmailDomain
	r.name = "Runbook smoke user"
	r.password = randomPassword()
	api.AddSecret(target.NewSecret("smoke user password", r.password))

	var got user
	r.attempted = true
	resp, err := api.PostJSON(ctx, "/auth/register", map[string]string{"email": r.email, "password": r.password, "name": r.name},
		http.StatusCreated, &got)
	if resp != nil && resp.Status == http.StatusCreated {
		r.created = true
	}
	var unreachable *httpcheck.UnreachableError
	if errors.As(err, &unreachable) {
		r.attempted = false // no connection was made: nothing can have been created
	}
	if err != nil {
		return err
	}
	rec.Record("POST "+resp.URL+" for "+r.email, fmt.Sprintf("%d, user id %q, in %s", resp.Status, got.ID, resp.Duration.Round(time.Millisecond)))
	switch {
	case got.ID == "":
		return resp.Errorf("no user id in the answer")
	case !strings.EqualFold(got.Email, r.email):
		return resp.Errorf("email %q, want %q", got.Email, r.email)
	case got.Name != r.name:
		return resp.Errorf("name %q, want %q", got.Name, r.name)
	}
	r.id = got.ID
	return nil
}

func (r *run) registerAgain(ctx context.Context, rec *flow.Recorder) error {
	resp, err := r.api.PostJSON(ctx, "/auth/register", map[string]string{"email": r.email, "password": r.password, "name": r.name},
		http.StatusConflict, nil)
	if err != nil {
		return fmt.Errorf("registering the same email twice must be refused: %w", err)
	}
	rec.Record("POST "+resp.URL+" again for "+r.email, fmt.Sprintf("%d (email already registered)", resp.Status))
	return nil
}

func (r *run) login(ctx context.Context, rec *flow.Recorder) error {
	var got loginAnswer
	resp, err := r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": r.email, "password": r.password}, http.StatusOK, &got)
	if err != nil {
		return err
	}
	r.api.AddSecret(target.NewSecret("bearer token", got.Token))
	switch {
	case got.Token == "":
		return resp.Errorf("no token in the answer")
	case !strings.EqualFold(got.TokenType, "Bearer"):
		return resp.Errorf("token_type %q, want \"Bearer\"", got.TokenType)
	case got.User.ID != r.id:
		return resp.Errorf("user.id %q, want the registered user %q", got.User.ID, r.id)
	case !strings.EqualFold(got.User.Email, r.email):
		return resp.Errorf("user.email %q, want %q", got.User.Email, r.email)
	}
	r.token = got.Token
	rec.Record("POST "+resp.URL+" as "+r.email, fmt.Sprintf("%d, a %s token (expires in %ds), in %s", resp.Status, got.TokenType, got.ExpiresIn, resp.Duration.Round(time.Millisecond)))
	return nil
}

func (r *run) loginWrongPassword(ctx context.Context, rec *flow.Recorder) error {
	resp, err := r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": r.email, "password": r.password + "-wrong"},
		http.StatusUnauthorized, nil)
	if err != nil {
		return fmt.Errorf("a wrong password must be refused: %w", err)
	}
	rec.Record("POST "+resp.URL+" with a wrong password", fmt.Sprintf("%d", resp.Status))
	return nil
}

func (r *run) me(ctx context.Context, rec *flow.Recorder) error {
	var got user
	resp, err := r.api.GetJSON(ctx, "/auth/me", http.StatusOK, &got, httpcheck.Bearer(r.token))
	if err != nil {
		return err
	}
	if got.ID != r.id || !strings.EqualFold(got.Email, r.email) || got.Name != r.name {
		return resp.Errorf("answered user {id %q, email %q, name %q}, want the smoke user {id %q, email %q, name %q}",
			got.ID, got.Email, got.Name, r.id, r.email, r.name)
	}
	rec.Record("GET "+resp.URL+" with the bearer token", fmt.Sprintf("%d, user %s (%s)", resp.Status, got.Email, got.ID))
	return nil
}

func (r *run) meWithoutToken(ctx context.Context, rec *flow.Recorder) error {
	resp, err := r.api.GetJSON(ctx, "/auth/me", http.StatusUnauthorized, nil)
	if err != nil {
		return fmt.Errorf("a request without a token must be refused: %w", err)
	}
	rec.Record("GET "+resp.URL+" without a token", fmt.Sprintf("%d", resp.Status))
	return nil
}

func (r *run) meTamperedToken(ctx context.Context, rec *flow.Recorder) error {
	for _, t := range tamper(r.token) {
		r.api.AddSecret(target.NewSecret("tampered token", t.token))
		resp, err := r.api.GetJSON(ctx, "/auth/me", http.StatusUnauthorized, nil, httpcheck.Bearer(t.token))
		if err != nil {
			return fmt.Errorf("a token with %s must be refused: %w", t.how, err)
		}
		rec.Record("GET "+resp.URL+" with a token with "+t.how, fmt.Sprintf("%d", resp.Status))
	}
	return nil
}

func (r *run) delete(ctx context.Context, rec *flow.Recorder) error {
	resp, err := r.api.Delete(ctx, "/auth/me", http.StatusNoContent, httpcheck.Bearer(r.token))
	if err != nil {
		return err
	}
	r.deleted = true
	rec.Record("DELETE "+resp.URL+" with the bearer token", fmt.Sprintf("%d", resp.Status))
	return nil
}

func (r *run) loginAfterDelete(ctx context.Context, rec *flow.Recorder) error {
	resp, err := r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": r.email, "password": r.password}, http.StatusUnauthorized, nil)
	if err != nil {
		r.deleted = false // the user is still there: the cleanup tries again
		return fmt.Errorf("after DELETE /auth/me the user must be gone: %w", err)
	}
	rec.Record("POST "+resp.URL+" as the deleted user", fmt.Sprintf("%d: the user is gone", resp.Status))
	return nil
}

// cleanup deletes the smoke user unless the flow did and proved it: log in
// (the token may be missing or stale), DELETE /auth/me, and check that
// logging in is refused afterwards.
func (r *run) cleanup(ctx context.Context, rec *flow.Recorder) error {
	switch {
	case !r.attempted:
		rec.Logf("no smoke user was registered: nothing to delete")
		return nil
	case r.deleted:
		rec.Logf("smoke user %s was deleted by the flow and its login refused", r.email)
		return nil
	}
	var got loginAnswer
	resp, err := r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": r.email, "password": r.password}, http.StatusOK, &got)
	var se *httpcheck.StatusError
	if errors.As(err, &se) && se.Got == http.StatusUnauthorized && !r.created {
		rec.Logf("POST %s as %s: 401: the registration did not create the user; nothing to delete", se.URL, r.email)
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot log in as smoke user %s to delete it (delete it by hand): %w", r.email, err)
	}
	r.api.AddSecret(target.NewSecret("bearer token", got.Token))
	if _, err := r.api.Delete(ctx, "/auth/me", http.StatusNoContent, httpcheck.Bearer(got.Token)); err != nil {
		return fmt.Errorf("cannot delete smoke user %s (delete it by hand): %w", r.email, err)
	}
	rec.Logf("DELETE %s/auth/me as %s: 204", r.api.Base, r.email)
	resp, err = r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": r.email, "password": r.password}, http.StatusUnauthorized, nil)
	if err != nil {
		return fmt.Errorf("smoke user %s is still there after DELETE /auth/me (delete it by hand): %w", r.email, err)
	}
	rec.Logf("POST %s as %s: %d: the smoke user is gone", resp.URL, r.email, resp.Status)
	return nil
}

// tampered is a token changed the way an attacker would.
type tampered struct{ how, token string }

// tamper returns the token with a forged signature, and with its claims
// rewritten (expiry pushed ten years out) under the original signature.
// Either must be refused by a server that verifies signatures.
func tamper(token string) []tampered {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		// Not a JWT: flipping a character in the middle still forges it.
		return []tampered{{"a changed character", flipMiddle(token)}}
	}
	out := []tampered{{"a forged signature", parts[0] + "." + parts[1] + "." + flipMiddle(parts[2])}}
	if payload, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
		var claims map[string]any
		if json.Unmarshal(payload, &claims) == nil {
			claims["exp"] = time.Now().AddDate(10, 0, 0).Unix()
			if b, err := json.Marshal(claims); err == nil {
				out = append(out, tampered{"rewritten claims (expiry +10 years) under the original signature",
					parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]})
			}
		}
	}
	return out
}

// flipMiddle changes the character in the middle of s (never the last one,
// whose low bits base64 decoders may ignore).
func flipMiddle(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func randomPassword() string {
	var b [18]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "Sm0ke-" + base64.RawURLEncoding.EncodeToString(b[:])
}
