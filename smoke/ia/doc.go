// Package ia is Step 4.1 of the runbook: "IA flow (extraction + fallback)".
//
// It posts a known grant notice (testdata/grant-notice.txt, embedded in the
// binary) to data-service's POST /ia/extract and expects its 8 fields
// (testdata/grant-notice.json): first from the AI path (source "ai"), then
// with the AI path forced off (mode=fallback: source "fallback" and a
// fallback_reason), then has the fallback read more known notices
// (testdata/fallback/*.txt: another region named the way a region names
// itself, a national call in French, other labels, a field on the first
// line, amounts as "1.5 million", "300 000 €", "€80k") and expects the
// fields of each (its .json; only the fallback reads them), then, where
// the target can make the AI provider fail
// (the local platform; never production), in auto mode with the provider
// failing in each way of Failures (answering 500, answering the grant
// without its amount, answering without fields): the fallback must answer
// with the same fields and say so each time. On a
// target that cannot break its provider that last step is reported as
// SKIPPED, never as passed. It creates nothing that needs cleaning up (a
// v2.0.0 data-service keeps an audit row per extraction, as for any user's).
//
// Run it alone: go test ./smoke/ia -tags=prod.
//
// When it fails:
//   - extract_ai says source "fallback": the AI provider is failing or its
//     key (AI_PROVIDER_KEY in granter-secrets) is wrong; fallback_reason in
//     the message says which. The platform still answers, with the fallback.
//   - wrong fields: the extractor named in the message regressed; the
//     message lists each wrong field, expected vs seen. Roll back.
//   - the fallback does not say it is the fallback, or mode=fallback still
//     uses the AI: callers cannot tell answers apart. Roll back.
//   - fallback_when_provider_fails sees source "ai" while the provider
//     answers without the amount or without fields: the service took an
//     incomplete answer for a complete one, and users get a grant with
//     amount 0 (or a 500). Roll back.
package ia
