// Package auth is Step 4.1 of the runbook: "Auth flow (register, login)".
//
// It registers two uniquely named smoke users (smoke.userPrefix, a
// timestamp and random digits, @smoke.emailDomain) on backend-core, the
// second with its name sent between spaces (the answer and /auth/me must
// show it trimmed), checks that the same email cannot register twice and
// that a registration without a name is refused (400), logs in as the
// first, expects
// 401 for a wrong password and for the other user's password, reads GET
// /auth/me with each user's bearer token and expects that very user,
// expects 401 for a missing token and a tampered one, deletes the first
// user with DELETE /auth/me, checks that it can no longer log in, that its
// token, not yet expired, gets 401 on /auth/me, and that the other user
// still can log in. The second user is what makes these identity
// checks: in a database with other users (production; the local seed), an
// answer about the first user, the last user or any user is caught, and a
// delete that removes more than the user asking. Every smoke user the flow
// registered (a nameless one too, if the API wrongly created it) is
// deleted afterwards even when a step failed; the tokens and the passwords
// never appear in the output.
//
// Run it alone: go test ./smoke/auth -tags=prod (or -tags=staging; no tag
// runs it against the local platform).
//
// When it fails, the message names the request, the status and what was
// expected:
//   - register or login answers 5xx: backend-core or its database is down;
//     check /health and the logs (Step 4.2).
//   - a wrong password, a missing or a tampered token is accepted, or a
//     deleted user's token still opens /auth/me: the token check is broken,
//     a security incident; roll back (Rollback procedure).
//   - a registration without a name is accepted, or a name keeps the spaces
//     around it: input checks regressed; users see nameless or badly
//     spelled accounts. Roll back.
//   - /auth/me or the login answers another user, or one user's password
//     opens another's account: sessions are mixed up; roll back.
//   - the other user is gone after the delete: DELETE /auth/me removes more
//     than the user asking; roll back now and check the users table against
//     the backup.
//   - the cleanup fails: the smoke user is still in the target; the message
//     names its email: delete it by hand (DELETE /auth/me after logging in).
package auth
