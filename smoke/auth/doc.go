// Package auth is Step 4.1 of the runbook: "Auth flow (register, login)".
//
// It registers a uniquely named smoke user (smoke.userPrefix, a timestamp
// and random digits, @smoke.emailDomain) on backend-core, checks that the
// same email cannot register twice, logs in, reads GET /auth/me with the
// bearer token and expects that very user, expects 401 for a wrong
// password, a missing token and a tampered one, deletes the user with
// DELETE /auth/me and checks that it can no longer log in. The user is
// deleted afterwards even when a step failed; the token and the password
// never appear in the output.
//
// Run it alone: go test ./smoke/auth -tags=prod (or -tags=staging; no tag
// runs it against the local platform).
//
// When it fails, the message names the request, the status and what was
// expected:
//   - register or login answers 5xx: backend-core or its database is down;
//     check /health and the logs (Step 4.2).
//   - a wrong password, a missing or a tampered token is accepted: the token
//     check is broken, a security incident; roll back (Rollback procedure).
//   - /auth/me returns another user: sessions are mixed up; roll back.
//   - the cleanup fails: the smoke user is still in the target; the message
//     names its email: delete it by hand (DELETE /auth/me after logging in).
package auth
