//go:build !staging && !prod

package smoke_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/faults"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke"
)

// smokeFlows are the catalogue's Flow values the smoke suite answers for.
var smokeFlows = phase4.FlowNames()

// faultCase: with fault on, flow must fail at step, with a message that
// contains every cause (the reader's clue to what broke).
type faultCase struct {
	fault string
	flow  string
	step  string
	cause []string
}

var faultCases = []faultCase{
	{faults.AuthRegister500, "auth", "register", []string{"POST", "/auth/register: status 500, want 201", "internal server error"}},
	{faults.AuthDuplicateAccepted, "auth", "register_again_409", []string{"registering the same email twice must be refused", "status 201, want 409"}},
	{faults.AuthLoginRejects, "auth", "login", []string{"/auth/login: status 401, want 200", "invalid email or password"}},
	{faults.AuthWrongPasswordOK, "auth", "login_wrong_password_401", []string{"a wrong password must be refused", "/auth/login: status 200, want 401"}},
	{faults.AuthMeWrongUser, "auth", "me", []string{"/auth/me: answered user", "want the smoke user"}},
	{faults.AuthTokenUnverified, "auth", "me_without_token_401", []string{"a request without a token must be refused", "/auth/me: status 200, want 401"}},
	{faults.AuthDeleteNoop, "auth", "login_after_delete_401", []string{"after DELETE /auth/me the user must be gone", "/auth/login: status 200, want 401"}},
	// Identity among other users: the seed's users signed up before the
	// smoke users, so "the first user" is never the smoke user.
	{faults.AuthMeFirstUser, "auth", "me", []string{"/auth/me: answered user", "want the smoke user", "whose token was sent"}},
	{faults.AuthLoginFirstUser, "auth", "login", []string{"/auth/login: status 401, want 200", "invalid email or password"}},
	{faults.AuthLoginOtherPassword, "auth", "login_other_users_password_401", []string{"with the password of", "(another user) must be refused", "/auth/login: status 200, want 401"}},
	{faults.AuthDeleteLaterUsers, "auth", "other_user_kept", []string{"must leave every other user", "cannot log in any more", "/auth/login: status 401, want 200"}},
	{faults.AuthNamelessAccepted, "auth", "register_without_name_400", []string{"a registration without a name must be refused", "deleted by the cleanup if it was created", "/auth/register: status 201, want 400"}},
	{faults.AuthNameUntrimmed, "auth", "register_other", []string{`name "  Runbook smoke user (other) ", want "Runbook smoke user (other)"`, "the spaces around it must not be kept"}},
	{faults.AuthMeDeletedUserOK, "auth", "me_after_delete_401", []string{"/auth/me", "status 200, want 401: the token of", "deleted, still opens /auth/me"}},

	{faults.SearchIgnoreQuery, "search", "query", []string{"do not satisfy query", "title and summary do not contain"}},
	{faults.SearchIgnoreCategory, "search", "filter_category", []string{"do not satisfy category=", "want \""}},
	{faults.SearchIgnoreRegion, "search", "filter_region", []string{"do not satisfy region=", "region \""}},
	{faults.SearchIgnoreAmount, "search", "filter_amount", []string{"do not satisfy min_amount=", "< min_amount"}},
	{faults.SearchIgnoreDeadline, "search", "filter_deadline", []string{"do not satisfy deadline_after=", "before deadline_after"}},
	{faults.SearchPagesOverlap, "search", "pages_consistent", []string{"page 2 repeats grant", "consecutive pages overlap"}},
	// With thousands of grants the query's first page is full, so a total
	// that is the page's size shows at the query step already.
	{faults.SearchTotalWrong, "search", "query", []string{"reports total", "the total is not the number of matches"}},
	{faults.SearchSlow, "search", "latency_p95", []string{"search p95 ", "(budget 200ms)", "searches slower than 200ms", "BREACHED", "p95 over budget"}},
	{faults.SearchCombinedNoRegion, "search", "filters_combined", []string{"region"}},
	{faults.SearchFirstWordOnly, "search", "query_several_words", []string{`do not satisfy query "`, "both words in grant", "title and summary do not contain"}},
	{faults.SearchUnknownFilter500, "search", "unknown_filter_value_empty", []string{"an unknown filter value must give an empty result", "status 500, want 200"}},
	{faults.SearchZeroPageAccepted, "search", "page_limit_zero_400", []string{"page=0 must be refused", "/search?page=0: status 200, want 400"}},

	{faults.ScraperSkipLastPage, "scraper", "every_page_fetched", []string{"fetched 5 pages (pages_fetched 5), the listing has 6", "missing: http://", "page=6"}},
	{faults.ScraperDuplicateStore, "scraper", "every_grant_stored_once", []string{"stored exactly once", "60 refs stored more than once"}},
	{faults.ScraperJobStuck, "scraper", "job_completes", []string{"to finish (smoke.jobTimeout): timed out after", "; last seen: status=running"}},
	{faults.ScraperListingDown, "scraper", "read_listing", []string{"reading the listing", "listing GET http://", "status 503, want 200"}},
	{faults.ScraperURLUnchecked, "scraper", "bad_input_400", []string{"a scrape job with a source_url that does not parse", "must be refused (it created job", "/scraper/jobs: status 202, want 400"}},
	{faults.ScraperZeroPagesDefault, "scraper", "bad_input_400", []string{"a scrape job with max_pages 0", "max_pages 0) must be refused (it created job", "status 202, want 400"}},
	{faults.ScraperMaxPagesIgnored, "scraper", "one_page_scrape", []string{"fetched 6 pages (pages_fetched 6), max_pages=1 allows 1", "beyond max_pages: http://"}},

	{faults.IAWrongAmount, "ia", "extract_ai", []string{"ai extractor", "amount 25000000, want 250000"}},
	{faults.IAFallbackBroken, "ia", "fallback_forced_off", []string{"fallback extractor", "wrong fields", "amount 0, want 250000"}},
	{faults.IAFallbackUnlabelled, "ia", "fallback_forced_off", []string{`source "ai", want "fallback"`}},
	{faults.IAForcedOffIgnored, "ia", "fallback_forced_off", []string{`source "ai", want "fallback"`, "mode=fallback did not turn the AI path off"}},
	{faults.IAProvider500, "ia", "extract_ai", []string{`source "fallback", want "ai"`, "the AI path did not answer", "AI provider answered 500"}},
	{faults.IAProviderHang, "ia", "extract_ai", []string{`source "fallback", want "ai"`, "AI provider timed out after 3s"}},
	{faults.IAProviderGarbage, "ia", "extract_ai", []string{`source "fallback", want "ai"`, "AI provider answered malformed JSON"}},
	{faults.IAProviderIncomplete, "ia", "extract_ai", []string{`source "fallback", want "ai"`, "AI provider answer lacks title, amount, currency or a valid deadline"}},
	{faults.IAProviderNoFields, "ia", "extract_ai", []string{`source "fallback", want "ai"`, "AI provider answer lacks title, amount, currency or a valid deadline"}},
	{faults.IAIncompleteAccepted, "ia", "fallback_when_provider_fails", []string{`source "ai", want "fallback"`, "AI provider answering a grant without its amount", "the provider failure went unnoticed"}},
	{faults.IAFallbackRegionAsIs, "ia", "fallback_known_documents", []string{"fallback extractor: 1 wrong fields for the known document testdata/fallback/auvergne-doctoral-research.txt",
		`region "auvergne-rhone-alpes-region", want "auvergne-rhone-alpes"`}},

	{faults.HealthDBDown, "health", "backend-core", []string{"/health: status 503, want 200", `"database":"down"`}},
	{faults.HealthReady503, "health", "backend-core", []string{"/health/ready: status 503, want 200", "not ready"}},
	{faults.HealthLive500, "health", "backend-core", []string{"/health/live: status 500, want 200"}},
	{faults.HealthWrongVersion, "health", "backend-core", []string{`version "v1.9.0", want "v2.0.0" (the version being deployed)`}},
	{faults.HealthWrongShape, "health", "backend-core", []string{`want {"status":"healthy","services":{"database":"up","api":"up"}}`}},
	{faults.FrontendPage500, "health", "web-frontend", []string{"web-frontend GET http://", "/: status 500, want 200"}},
	// In a real browser (environments/local.yaml names chromium).
	{faults.FrontendBlankPage, "health", phase4.FrontendInBrowserStep, []string{"web-frontend page http://", "no title, no h1 heading, no search form",
		"(no visible text: a blank page)", "/usr/bin/chromium"}},
	{faults.FrontendRefusedBlank, "health", "frontend_refused_search", []string{"the results page must show a search the API refuses as a page", "/search?query=grant&limit=0: status 200, want 400"}},
	{faults.FrontendSearchBroken, "health", phase4.FrontendInBrowserStep, []string{"into the search form of http://", "and submitted it: the results page http://",
		"/search?q=", "shows 20 results", "want the", "grants GET http://", "/search?limit=20&query=", "page text: "}},
}

// cleansUp are the faults under which requests the flows expect refused
// are accepted, or do more than asked: the flow's cleanup must still remove
// every user, job and grant they created.
var cleansUp = []string{faults.AuthNamelessAccepted, faults.AuthNameUntrimmed, faults.AuthMeDeletedUserOK,
	faults.ScraperURLUnchecked, faults.ScraperZeroPagesDefault, faults.ScraperMaxPagesIgnored}

// notCaught are the five flows' catalogue entries no smoke flow can catch,
// and why. Every other entry must have a case above.
var notCaught = map[string]string{
	faults.HealthLies: "with the database up, a /health that skips its SELECT 1 answers exactly like one that runs it; " +
		"telling them apart needs a database outage, which a smoke run must not cause (the health flow's own SELECT 1 is the cross-check it can make)",
}

// faultJobTimeout replaces smoke.jobTimeout in fault tests, so that a job
// that never ends (scraper.job-stuck) is given up on sooner. A healthy job
// takes well under a second here.
const faultJobTimeout = 10 * time.Second

func TestFaultCatalogueCovered(t *testing.T) {
	perFlow := map[string]int{}
	tested := map[string]bool{}
	for _, c := range faultCases {
		f, ok := faults.Lookup(c.fault)
		require.True(t, ok, "%s is not in the catalogue", c.fault)
		assert.Equal(t, f.Flow, c.flow, "%s: the catalogue says flow %s", c.fault, f.Flow)
		assert.False(t, tested[c.fault], "%s listed twice", c.fault)
		tested[c.fault] = true
		perFlow[c.flow]++
	}
	for _, f := range faults.Catalogue {
		if !slices.Contains(smokeFlows, f.Flow) {
			continue
		}
		_, excused := notCaught[f.Name]
		assert.True(t, tested[f.Name] || excused, "catalogue entry %s (flow %s: %s) has no fault case and no reason in notCaught", f.Name, f.Flow, f.Description)
	}
	for _, name := range smokeFlows {
		assert.GreaterOrEqual(t, perFlow[name], 3, "flow %s: want at least 3 faults proven caught", name)
	}
}

// TestFaultsAreCaught switches each fault on in turn, runs all five flows
// and checks that the flow meant to catch it fails at the right step with
// a message naming the cause, while the other four pass.
func TestFaultsAreCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the fault catalogue proof (about 45 s) is not run; the five flows are")
	}
	p := suite.Platform()
	if p == nil {
		t.Skip("needs the fault switches of a platform this process started; unset RUNBOOK_LOCAL_TARGET")
	}
	ft := *tgt
	ft.Smoke.JobTimeout = faultJobTimeout
	// The health flow holds every answer to the version being deployed:
	// here, the platform's (health.wrong-version answers the other one).
	ft.Version = p.Version()
	pool := smokeDB(t, tgt)
	opts := smoke.Options{AIProviderOutage: suite.AIProviderOutage}
	for _, c := range faultCases {
		t.Run(c.fault, func(t *testing.T) {
			t.Cleanup(func() {
				require.NoError(t, p.Faults.Disable(c.fault))
				// A broken deployment may keep what the flows could not delete
				// (auth.delete-noop keeps the user): remove it, so that the next
				// case and TestSmokeLeavesNothingBehind start clean.
				if n := purgeSmokeData(t, pool, tgt.Smoke.UserPrefix); n > 0 {
					t.Logf("removed %d smoke rows the faulty platform kept", n)
				}
			})
			require.NoError(t, p.Faults.Enable(c.fault))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			start := time.Now()
			results := smoke.RunAll(ctx, &ft, opts)
			t.Logf("five flows ran in %s with %s on", time.Since(start).Round(time.Millisecond), c.fault)
			for _, r := range results {
				if r.Flow != c.flow {
					assert.False(t, r.Failed(), "flow %s must pass with %s on, got:\n%s", r.Flow, c.fault, r)
					continue
				}
				require.True(t, r.Failed(), "flow %s must fail with %s on; it passed:\n%s", r.Flow, c.fault, r)
				assert.Equal(t, c.step, r.FailedStep(), "flow %s failed at another step:\n%s", r.Flow, r)
				msg := r.Err().Error()
				for _, cause := range c.cause {
					assert.Contains(t, msg, cause, "the message must name the cause")
				}
				t.Logf("caught: %s", msg)
			}
			if slices.Contains(cleansUp, c.fault) {
				users, jobs, grants, names := leftovers(t, pool, tgt.Smoke.UserPrefix)
				assert.Zero(t, users+jobs+grants, "with %s on, the cleanup left %d smoke users, %d scrape jobs, %d scraped grants: %s",
					c.fault, users, jobs, grants, strings.Join(names, ", "))
			}
		})
	}
}

// smokeDB connects to the target's database (the local platform's).
func smokeDB(tb testing.TB, tgt *target.Target) *pgxpool.Pool {
	tb.Helper()
	if tgt.Database == nil || tgt.Database.URL.IsZero() {
		tb.Skip("needs the target's database (the local platform gives it)")
	}
	pool, err := pgxpool.New(context.Background(), tgt.Database.URL.Reveal())
	require.NoError(tb, err, "database %s", tgt.Database.URL)
	tb.Cleanup(pool.Close)
	return pool
}

// leftovers counts the smoke users and the scrape jobs and grants under a
// smoke tag, and names some of them.
func leftovers(tb testing.TB, pool *pgxpool.Pool, prefix string) (users, jobs, grants int, names []string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	like := likePrefix(prefix)
	rows, err := pool.Query(ctx, `SELECT email FROM users WHERE email LIKE $1 ORDER BY email`, like)
	require.NoError(tb, err)
	for rows.Next() {
		var e string
		require.NoError(tb, rows.Scan(&e))
		names = append(names, "user "+e)
		users++
	}
	require.NoError(tb, rows.Err())
	rows, err = pool.Query(ctx, `SELECT j.id::text, j.tag, (SELECT count(*) FROM scraped_grants g WHERE g.job_id = j.id)
		FROM scrape_jobs j WHERE j.tag LIKE $1 ORDER BY j.tag`, like)
	require.NoError(tb, err)
	for rows.Next() {
		var id, tag string
		var n int
		require.NoError(tb, rows.Scan(&id, &tag, &n))
		names = append(names, "scrape job "+id+" (tag "+tag+")")
		jobs++
		grants += n
	}
	require.NoError(tb, rows.Err())
	return users, jobs, grants, names
}

// purgeSmokeData deletes every smoke user and smoke-tagged scrape job (its
// grants go with it). Only the local platform is ever purged like this.
func purgeSmokeData(tb testing.TB, pool *pgxpool.Pool, prefix string) int64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := pool.Exec(ctx, `DELETE FROM users WHERE email LIKE $1`, likePrefix(prefix))
	require.NoError(tb, err)
	j, err := pool.Exec(ctx, `DELETE FROM scrape_jobs WHERE tag LIKE $1`, likePrefix(prefix))
	require.NoError(tb, err)
	return u.RowsAffected() + j.RowsAffected()
}

func likePrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
}

// TestSmokeLeavesNothingBehind runs the five flows against the healthy
// platform and checks, in the database itself, that no smoke user and no
// smoke-tagged scrape job or grant remains.
func TestSmokeLeavesNothingBehind(t *testing.T) {
	pool := smokeDB(t, tgt)
	prefix := tgt.Smoke.UserPrefix
	require.NotEmpty(t, prefix)
	if n := purgeSmokeData(t, pool, prefix); n > 0 {
		t.Logf("removed %d smoke rows left by earlier runs, to start from none", n)
	}
	// The check below can see smoke data: a planted user is counted.
	_, err := pool.Exec(t.Context(), `INSERT INTO users (email, name, password_hash) VALUES ($1, 'planted', 'x')`,
		prefix+"planted@smoke.example.com")
	require.NoError(t, err)
	users, _, _, _ := leftovers(t, pool, prefix)
	require.Equal(t, 1, users, "the leftover check does not see a planted smoke user")
	purgeSmokeData(t, pool, prefix)

	results := smoke.RunAll(t.Context(), tgt, smoke.Options{AIProviderOutage: suite.AIProviderOutage})
	for _, r := range results {
		require.False(t, r.Failed(), "flow %s failed on the healthy platform:\n%s", r.Flow, r)
		t.Logf("%s: passed in %s; cleanup: %s", r.Flow, r.Duration.Round(time.Millisecond), strings.Join(r.Cleanup, "; "))
	}
	users, jobs, grants, names := leftovers(t, pool, prefix)
	assert.Zero(t, users+jobs+grants, "left behind: %d smoke users, %d scrape jobs, %d scraped grants: %s", users, jobs, grants, strings.Join(names, ", "))
}
