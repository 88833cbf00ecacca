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

// account is one smoke user the flow registers.
type account struct {
	email, name, password string
	// attempted: a register request was sent (it may have created the user
	// even if its answer was lost); created: it answered 201.
	attempted, created, deleted bool
	id, token                   string
}

// run is the state one run of the flow shares between its steps.
type run struct {
	tgt *target.Target
	api *httpcheck.Client
	// me is the smoke user the runbook's flow is about; other is a second
	// smoke user, registered after it, so that identity is checked among
	// users: whatever else the database holds, the answers must be about
	// the user asked for, and deleting one must leave the other. nameless
	// is a registration sent without a name: refused, it creates nothing;
	// wrongly accepted, the cleanup deletes it like the others.
	me, other, nameless account
}

// New returns the auth flow for the target: register two uniquely named
// smoke users (the second's name sent with spaces around it, which must be
// trimmed), refuse a registration without a name, log in as the first,
// refuse a wrong password and the other user's password, read /auth/me
// with each user's token and get that very user, check that missing and
// tampered tokens get 401, delete the first user, check it is gone (no
// login, and its still-valid token gets 401 on /auth/me) and that the other
// is not. The cleanup deletes every smoke user the flow registered,
// whatever step failed.
func New(tgt *target.Target) flow.Flow {
	r := &run{tgt: tgt}
	return flow.Flow{
		Name:    "auth",
		Timeout: Timeout,
		Redact:  tgt.Redact,
		Steps: []flow.Step{
			{Name: "register", Run: r.register},
			{Name: "register_other", Run: r.registerOther},
			{Name: "register_again_409", Run: r.registerAgain},
			{Name: "register_without_name_400", Run: r.registerWithoutName},
			{Name: "login", Run: r.login},
			{Name: "login_wrong_password_401", Run: r.loginWrongPassword},
			{Name: "login_other_users_password_401", Run: r.loginOtherPassword},
			{Name: "me", Run: r.meStep},
			{Name: "me_other_user", Run: r.meOther},
			{Name: "me_without_token_401", Run: r.meWithoutToken},
			{Name: "me_tampered_token_401", Run: r.meTamperedToken},
			{Name: "delete", Run: r.delete},
			{Name: "login_after_delete_401", Run: r.loginAfterDelete},
			{Name: "me_after_delete_401", Run: r.meAfterDelete},
			{Name: "other_user_kept", Run: r.otherUserKept},
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
	return r.registerAccount(ctx, rec, &r.me, "Runbook smoke user")
}

// registerOther registers the second user with its name typed the way
// users do, with spaces around it: the account must show it trimmed.
// Its password is as long as the API accepts (72 bytes, docs/API.md), as a
// password manager's may be: registering and logging in with it must work.
func (r *run) registerOther(ctx context.Context, rec *flow.Recorder) error {
	r.other.password = longestPassword()
	return r.registerAccount(ctx, rec, &r.other, "  Runbook smoke user (other) ")
}

// newCredentials gives a a unique smoke email and, unless it has one
// already, a random password, which the output never shows.
func (r *run) newCredentials(a *account) {
	a.email = flow.Unique(r.tgt.Smoke.UserPrefix) + "@" + r.tgt.Smoke.EmailDomain
	if a.password == "" {
		a.password = randomPassword()
	}
	r.api.AddSecret(target.NewSecret("smoke user password", a.password))
}

// registerAccount registers a new uniquely named smoke user as a, with the
// name sent as given; the answer (and later /auth/me) must show it
// trimmed.
func (r *run) registerAccount(ctx context.Context, rec *flow.Recorder, a *account, name string) error {
	r.newCredentials(a)
	a.name = strings.TrimSpace(name)

	var got user
	a.attempted = true
	resp, err := r.api.PostJSON(ctx, "/auth/register", map[string]string{"email": a.email, "password": a.password, "name": name},
		http.StatusCreated, &got)
	if resp != nil && resp.Status == http.StatusCreated {
		a.created = true
	}
	var unreachable *httpcheck.UnreachableError
	if errors.As(err, &unreachable) {
		a.attempted = false // no connection was made: nothing can have been created
	}
	if err != nil {
		return err
	}
	rec.Record("POST "+resp.URL+" for "+a.email, fmt.Sprintf("%d, user id %q, in %s", resp.Status, got.ID, resp.Duration.Round(time.Millisecond)))
	switch {
	case got.ID == "":
		return resp.Errorf("no user id in the answer")
	case got.ID == r.me.id && a != &r.me:
		return resp.Errorf("user id %q for %s is the id of %s registered before: two users share one id", got.ID, a.email, r.me.email)
	case !strings.EqualFold(got.Email, a.email):
		return resp.Errorf("email %q, want %q", got.Email, a.email)
	case got.Name != a.name && name != a.name:
		return resp.Errorf("name %q, want %q: the name was sent as %q, and the spaces around it must not be kept", got.Name, a.name, name)
	case got.Name != a.name:
		return resp.Errorf("name %q, want %q", got.Name, a.name)
	}
	a.id = got.ID
	return nil
}

// registerWithoutName sends a registration that lacks the name: the API
// requires one (docs/API.md: 400 on a missing field). A wrongly created
// user is deleted by the cleanup.
func (r *run) registerWithoutName(ctx context.Context, rec *flow.Recorder) error {
	a := &r.nameless
	r.newCredentials(a)
	a.attempted = true
	resp, err := r.api.PostJSON(ctx, "/auth/register", map[string]string{"email": a.email, "password": a.password}, http.StatusBadRequest, nil)
	var unreachable *httpcheck.UnreachableError
	switch {
	case errors.As(err, &unreachable):
		a.attempted = false // no connection was made: nothing can have been created
	case resp != nil && resp.Status >= 200 && resp.Status < 300:
		a.created = true
	}
	if err != nil {
		return fmt.Errorf("a registration without a name must be refused (%s; deleted by the cleanup if it was created): %w", a.email, err)
	}
	rec.Record("POST "+resp.URL+" for "+a.email+" without a name", fmt.Sprintf("%d: refused", resp.Status))
	return nil
}

func (r *run) registerAgain(ctx context.Context, rec *flow.Recorder) error {
	resp, err := r.api.PostJSON(ctx, "/auth/register", map[string]string{"email": r.me.email, "password": r.me.password, "name": r.me.name},
		http.StatusConflict, nil)
	if err != nil {
		return fmt.Errorf("registering the same email twice must be refused: %w", err)
	}
	rec.Record("POST "+resp.URL+" again for "+r.me.email, fmt.Sprintf("%d (email already registered)", resp.Status))
	return nil
}

// logIn logs a in and checks that the answer is about a: its id and email.
func (r *run) logIn(ctx context.Context, a *account) (*httpcheck.Response, loginAnswer, error) {
	var got loginAnswer
	resp, err := r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": a.email, "password": a.password}, http.StatusOK, &got)
	if err != nil {
		return resp, got, err
	}
	r.api.AddSecret(target.NewSecret("bearer token", got.Token))
	switch {
	case got.Token == "":
		return resp, got, resp.Errorf("no token in the answer")
	case !strings.EqualFold(got.TokenType, "Bearer"):
		return resp, got, resp.Errorf("token_type %q, want \"Bearer\"", got.TokenType)
	case got.User.ID != a.id || !strings.EqualFold(got.User.Email, a.email):
		return resp, got, resp.Errorf("logged in as %s, the answer is about user {id %q, email %q}, want {id %q, email %q}: the login answered another user",
			a.email, got.User.ID, got.User.Email, a.id, a.email)
	}
	a.token = got.Token
	return resp, got, nil
}

func (r *run) login(ctx context.Context, rec *flow.Recorder) error {
	resp, got, err := r.logIn(ctx, &r.me)
	if err != nil {
		return err
	}
	rec.Record("POST "+resp.URL+" as "+r.me.email, fmt.Sprintf("%d, a %s token (expires in %ds) for user %s, in %s", resp.Status, got.TokenType, got.ExpiresIn, got.User.ID, resp.Duration.Round(time.Millisecond)))
	return nil
}

func (r *run) loginWrongPassword(ctx context.Context, rec *flow.Recorder) error {
	resp, err := r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": r.me.email, "password": r.me.password + "-wrong"},
		http.StatusUnauthorized, nil)
	if err != nil {
		return fmt.Errorf("a wrong password must be refused: %w", err)
	}
	rec.Record("POST "+resp.URL+" with a wrong password", fmt.Sprintf("%d", resp.Status))
	return nil
}

func (r *run) loginOtherPassword(ctx context.Context, rec *flow.Recorder) error {
	resp, err := r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": r.me.email, "password": r.other.password},
		http.StatusUnauthorized, nil)
	if err != nil {
		return fmt.Errorf("logging in as %s with the password of %s (another user) must be refused: %w", r.me.email, r.other.email, err)
	}
	rec.Record("POST "+resp.URL+" as "+r.me.email+" with the password of "+r.other.email, fmt.Sprintf("%d", resp.Status))
	return nil
}

func (r *run) meStep(ctx context.Context, rec *flow.Recorder) error {
	return r.me.checkMe(ctx, rec, r.api)
}

// meOther logs the other user in and reads /auth/me with its token: each
// token must name its own user, not the first, the last or the same one.
func (r *run) meOther(ctx context.Context, rec *flow.Recorder) error {
	resp, _, err := r.logIn(ctx, &r.other)
	if err != nil {
		return fmt.Errorf("logging in as the other smoke user: %w", err)
	}
	rec.Record("POST "+resp.URL+" as "+r.other.email, fmt.Sprintf("%d, a token for user %s", resp.Status, r.other.id))
	if r.other.token == r.me.token {
		return resp.Errorf("the other user %s got the same token as %s", r.other.email, r.me.email)
	}
	return r.other.checkMe(ctx, rec, r.api)
}

// checkMe reads /auth/me with a's token and expects a: its id, email and name.
func (a *account) checkMe(ctx context.Context, rec *flow.Recorder, api *httpcheck.Client) error {
	var got user
	resp, err := api.GetJSON(ctx, "/auth/me", http.StatusOK, &got, httpcheck.Bearer(a.token))
	if err != nil {
		return err
	}
	if got.ID != a.id || !strings.EqualFold(got.Email, a.email) || got.Name != a.name {
		return resp.Errorf("answered user {id %q, email %q, name %q}, want the smoke user {id %q, email %q, name %q} whose token was sent",
			got.ID, got.Email, got.Name, a.id, a.email, a.name)
	}
	rec.Record("GET "+resp.URL+" with the bearer token of "+a.email, fmt.Sprintf("%d, user %s (%s)", resp.Status, got.Email, got.ID))
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
	for _, t := range tamper(r.me.token) {
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
	resp, err := r.api.Delete(ctx, "/auth/me", http.StatusNoContent, httpcheck.Bearer(r.me.token))
	if err != nil {
		return err
	}
	r.me.deleted = true
	rec.Record("DELETE "+resp.URL+" with the bearer token of "+r.me.email, fmt.Sprintf("%d", resp.Status))
	return nil
}

func (r *run) loginAfterDelete(ctx context.Context, rec *flow.Recorder) error {
	resp, err := r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": r.me.email, "password": r.me.password}, http.StatusUnauthorized, nil)
	if err != nil {
		r.me.deleted = false // the user is still there: the cleanup tries again
		return fmt.Errorf("after DELETE /auth/me the user must be gone: %w", err)
	}
	rec.Record("POST "+resp.URL+" as the deleted user", fmt.Sprintf("%d: the user is gone", resp.Status))
	return nil
}

// meAfterDelete reads /auth/me with the deleted user's token, which has
// not expired: the user is gone, so the token must no longer open it.
func (r *run) meAfterDelete(ctx context.Context, rec *flow.Recorder) error {
	var got user
	resp, err := r.api.GetJSON(ctx, "/auth/me", http.StatusUnauthorized, nil, httpcheck.Bearer(r.me.token))
	var se *httpcheck.StatusError
	if errors.As(err, &se) && se.Got == http.StatusOK && resp != nil {
		if json.Unmarshal(resp.Body, &got) == nil {
			return resp.Errorf("status 200, want 401: the token of %s, deleted, still opens /auth/me, as user {id %q, email %q, name %q}",
				r.me.email, got.ID, got.Email, got.Name)
		}
	}
	if err != nil {
		return fmt.Errorf("after DELETE /auth/me the deleted user's token must be refused: %w", err)
	}
	rec.Record("GET "+resp.URL+" with the token of the deleted user "+r.me.email, fmt.Sprintf("%d", resp.Status))
	return nil
}

// otherUserKept checks that deleting one user left the other: it still
// logs in, as itself.
func (r *run) otherUserKept(ctx context.Context, rec *flow.Recorder) error {
	resp, _, err := r.logIn(ctx, &r.other)
	if err != nil {
		var se *httpcheck.StatusError
		if errors.As(err, &se) && se.Got == http.StatusUnauthorized {
			r.other.deleted = true // nothing left to delete
		}
		return fmt.Errorf("deleting %s must leave every other user; the other smoke user %s (registered after it) cannot log in any more: %w",
			r.me.email, r.other.email, err)
	}
	rec.Record("POST "+resp.URL+" as "+r.other.email+" after deleting "+r.me.email, fmt.Sprintf("%d: the other user is still there", resp.Status))
	return nil
}

// cleanup deletes every smoke user the flow registered, unless the flow
// did and proved it.
func (r *run) cleanup(ctx context.Context, rec *flow.Recorder) error {
	return errors.Join(r.cleanupAccount(ctx, rec, &r.me), r.cleanupAccount(ctx, rec, &r.other), r.cleanupAccount(ctx, rec, &r.nameless))
}

// cleanupAccount deletes a: log in (the token may be missing or stale),
// DELETE /auth/me, and check that logging in is refused afterwards.
func (r *run) cleanupAccount(ctx context.Context, rec *flow.Recorder, a *account) error {
	switch {
	case !a.attempted:
		rec.Logf("no smoke user %s was registered: nothing to delete", a.email)
		return nil
	case a.deleted:
		rec.Logf("smoke user %s was deleted and its login refused", a.email)
		return nil
	}
	var got loginAnswer
	resp, err := r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": a.email, "password": a.password}, http.StatusOK, &got)
	var se *httpcheck.StatusError
	if errors.As(err, &se) && se.Got == http.StatusUnauthorized && !a.created {
		rec.Logf("POST %s as %s: 401: the registration did not create the user; nothing to delete", se.URL, a.email)
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot log in as smoke user %s to delete it (delete it by hand): %w", a.email, err)
	}
	r.api.AddSecret(target.NewSecret("bearer token", got.Token))
	if _, err := r.api.Delete(ctx, "/auth/me", http.StatusNoContent, httpcheck.Bearer(got.Token)); err != nil {
		return fmt.Errorf("cannot delete smoke user %s (delete it by hand): %w", a.email, err)
	}
	rec.Logf("DELETE %s/auth/me as %s: 204", r.api.Base, a.email)
	resp, err = r.api.PostJSON(ctx, "/auth/login", map[string]string{"email": a.email, "password": a.password}, http.StatusUnauthorized, nil)
	if err != nil {
		return fmt.Errorf("smoke user %s is still there after DELETE /auth/me (delete it by hand): %w", a.email, err)
	}
	rec.Logf("POST %s as %s: %d: the smoke user is gone", resp.URL, a.email, resp.Status)
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

// longestPassword is a random password of maxPassword bytes, the longest
// the API accepts.
func longestPassword() string {
	p := randomPassword()
	for len(p) < maxPassword {
		p += randomPassword()
	}
	return p[:maxPassword]
}

// maxPassword is the longest password the API accepts, in bytes (bcrypt's
// limit; docs/API.md).
const maxPassword = 72

func randomPassword() string {
	var b [18]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "Sm0ke-" + base64.RawURLEncoding.EncodeToString(b[:])
}
