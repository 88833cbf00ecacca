// Package httpcheck is the HTTP client every runbook check uses to call a
// Granter service: "curl http://backend:3001/health" with a deadline, typed
// errors and no secrets in its messages.
//
// A Client is built from target.HTTP: every request has the target's timeout
// (http.timeout), every connection attempt a 3 s dial timeout, and TLS is
// verified unless the target says InsecureTLS (local only). Each Response
// records how long it took.
//
// Failures are typed, in the terratest style, and each prints what was
// expected and what was seen, naming the endpoint:
//
//   - *UnreachableError: "backend-core GET https://api.example.com/health
//     unreachable: connection refused". Check the URL in
//     environments/<env>.yaml, DNS, the ingress and that the pods run.
//   - *TimeoutError: the endpoint accepted the connection but did not answer
//     within the timeout. The service is hung or overloaded.
//   - *StatusError: the status is not the one the API contract
//     (docs/API.md) gives, with an excerpt of the body.
//   - *DecodeError: the body is not the JSON the contract gives.
//   - *ContentError: the JSON decoded but a value is wrong (Response.Errorf).
//
// A /health answer is one type, Health, with one verdict (Problem): status
// "healthy", services database and api (and any other listed) "up", and
// the expected version when the answer says one. CheckHealth asks once
// (preflight, postdeploy); WaitHealthy asks until that answer or its
// timeout (Phase 3, rollback Step 5), through internal/wait.
//
// Messages never contain an Authorization header, a bearer token, a
// password or any target secret: bodies are excerpted to 300 characters and
// passed through target.Redact, the client's own secrets (AddSecret) and a
// filter for JSON Web Tokens and "token"/"password" fields.
package httpcheck
