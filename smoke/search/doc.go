// Package search is Step 4.1 of the runbook: "Search flow (query +
// filters)".
//
// Against backend-core's GET /search it runs a plain full-text query, a
// query of two words (a grant with both is found, one lacking the second is
// not), each filter (category, region, min/max amount, deadline window) and
// all of them together, and checks that every result satisfies every
// filter; around one grant the combination finds, it moves each filter in
// turn to exclude that grant, the others staying, and the grant must
// disappear (a filter dropped when combined with others lets it back); walks the
// pages of one filtered set and checks that consecutive pages do not
// overlap, stay in order and add up to the reported total; checks that an
// unknown category or region gives an empty result (200, total 0), not an
// error, that the smallest values (min_amount=0, limit=1) are answered
// like any other, and that page=0 and limit=0 are refused (400); and holds the p95 of every request's latency to the target's budget
// (smoke.searchP95, the runbook's 200 ms), logging "search p95 34ms over 23
// requests (budget 200ms)". The values it searches for are taken from the
// first page of an unfiltered search, so it works on any data set, and a
// filter that finds nothing fails rather than passing vacuously. It only
// reads.
//
// Run it alone: go test ./smoke/search -tags=prod.
//
// When it fails:
//   - a result breaks a filter, or pages overlap or disagree with the total:
//     the search query of this version is wrong; the message names the
//     request and the offending result. Roll back.
//   - an unknown value gives 5xx: input handling regressed; check the logs.
//   - page=0 or limit=0 answered 200: the API no longer checks its input;
//     clients get pages they cannot rely on. Roll back.
//   - p95 over budget: the message gives p95, the sample count and the
//     slowest requests; check the database (Monitoring: query time) and the
//     search index migration (20260127000100) before deciding on rollback.
package search
