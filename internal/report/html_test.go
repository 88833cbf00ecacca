package report_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/report"
)

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// find returns every element below n for which match is true.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func byTag(tag string) func(*html.Node) bool { return func(n *html.Node) bool { return n.Data == tag } }

func renderHTML(t *testing.T, v report.Verdict) (*html.Node, string) {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, report.WriteHTML(&b, v))
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	require.NoError(t, err)
	return doc, b.String()
}

func TestHTMLReportContent(t *testing.T) {
	f := newFixture(t, "prod")
	v := evaluate(t, f.run(runOpts{searchFails: true, phase3Overrun: true}))
	doc, raw := renderHTML(t, v)

	// The verdict comes first, then what blocks it.
	sections := find(doc, byTag("section"))
	require.NotEmpty(t, sections)
	assert.Equal(t, "verdict", attr(sections[0], "id"), "the verdict is the first section")
	assert.Contains(t, text(sections[0]), "✗ NOT APPROVED")
	assert.Contains(t, text(sections[0]), "exit code 5 smoke failed")
	assert.Equal(t, "blocking", attr(sections[1], "id"))
	assert.Contains(t, text(sections[1]), "All 5 smoke tests passing ✗ NOT MET")
	assert.Contains(t, text(sections[1]), "result 3 has category culture, want research")

	// The criteria table: eleven rows, in the runbook's order, with state and evidence.
	rows := find(doc, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-criterion") != "" })
	require.Len(t, rows, 11)
	want := []string{"deployed", "migrations", "health", "smoke", "error_rate", "alerts", "auth", "search", "endpoints", "sql", "stable"}
	for i, row := range rows {
		assert.Equal(t, want[i], attr(row, "data-criterion"))
		cells := find(row, byTag("td"))
		require.Len(t, cells, 4)
		assert.NotEmpty(t, text(cells[3]), "evidence for %s", want[i])
	}
	assert.Equal(t, "✗ NOT MET", text(find(rows[3], byTag("td"))[2]))
	assert.Contains(t, text(find(rows[3], byTag("td"))[3]), "TestSearch/filter_category")
	assert.Equal(t, "✓ MET", text(find(rows[0], byTag("td"))[2]))
	assert.True(t, hasClass(rows[3], "NotMet"))

	// The timeline: an inline SVG with one group per phase, a planned bar
	// for each, an actual bar for each phase that ran, overruns in red.
	// Before it, one chart per watched metric (six) over the watch's rounds,
	// each with its threshold line, the error rate with its band.
	svgs := find(doc, byTag("svg"))
	require.Len(t, svgs, 7, "six watched metrics and the timeline")
	watch := find(doc, func(n *html.Node) bool { return n.Data == "h2" && attr(n, "id") == "watch" })
	require.Len(t, watch, 1, "the watch section")
	for _, title := range []string{"Error rate (band: 95% bounds, one-sided)", "API response time p95", "Database query time p95", "CPU usage", "Memory growth", "Active database connections"} {
		assert.Contains(t, raw, title)
	}
	phases := find(svgs[6], func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "phase") })
	require.Len(t, phases, len(v.Timeline))
	require.Len(t, phases, 6)
	for i, g := range phases {
		row := v.Timeline[i]
		assert.Equal(t, row.Title, attr(g, "data-phase"))
		assert.Len(t, find(g, func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "planned") }), 1, row.Title)
		actual := find(g, func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "actual") })
		if row.Ran {
			require.Len(t, actual, 1, row.Title)
			assert.NotEqual(t, "0", attr(actual[0], "width"))
		} else {
			assert.Empty(t, actual, row.Title)
			assert.Contains(t, text(g), "not run")
		}
	}
	p3 := phases[3]
	assert.Equal(t, journal.WindowOf(journal.Phase3).Title, attr(p3, "data-phase"))
	bar := find(p3, func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "actual") })[0]
	assert.True(t, hasClass(bar, "overrun"))
	assert.Equal(t, "#c62828", attr(bar, "fill"), "overruns in red")
	assert.Contains(t, text(p3), "OVERRAN by")

	// Self-contained: no script, no stylesheet link, no external reference.
	assert.Empty(t, find(doc, byTag("script")))
	assert.Empty(t, find(doc, byTag("link")))
	for _, n := range find(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if a.Key == "src" || a.Key == "href" || a.Key == "xlink:href" || a.Key == "action" {
				t.Errorf("<%s %s=%q>: the report must not load anything", n.Data, a.Key, a.Val)
			}
		}
	}
	assert.NotContains(t, raw, "@import")
	assert.NotContains(t, raw, "url(")
}

func TestHTMLApproved(t *testing.T) {
	f := newFixture(t, "prod")
	doc, _ := renderHTML(t, evaluate(t, f.run(runOpts{})))
	sections := find(doc, byTag("section"))
	assert.Contains(t, text(sections[0]), "✓ GO-LIVE APPROVED")
	assert.Empty(t, find(doc, func(n *html.Node) bool { return attr(n, "id") == "blocking" }))
}

func TestMain_(t *testing.T) {
	t.Run("writes_both_and_exits_with_the_class", func(t *testing.T) {
		f := newFixture(t, "prod")
		dir := f.run(runOpts{searchFails: true})
		var stdout, stderr bytes.Buffer
		code := report.Main([]string{dir}, &stdout, &stderr)
		assert.Equal(t, exitcode.Smoke, code, stderr.String())
		assert.FileExists(t, filepath.Join(dir, "report.md"))
		assert.FileExists(t, filepath.Join(dir, "report.html"))
		out := stdout.String()
		assert.True(t, strings.HasPrefix(out, "❌ NOT APPROVED — 20260303-140000-prod (prod, v2.0.0): 9/11 criteria met"), out)
		assert.Contains(t, out, "first failure: smoke: TestSearch/filter_category at ")
		assert.Contains(t, out, "next: make rollback ENV=prod CONFIRM=prod RUN="+dir)
		assert.Contains(t, out, "exit code 5 (smoke failed)")
	})
	t.Run("approved_exits_0_and_out_folder", func(t *testing.T) {
		f := newFixture(t, "prod")
		dir := f.run(runOpts{})
		out := t.TempDir()
		code := report.Main([]string{"--format", "html", "--out", out, dir}, io.Discard, io.Discard)
		assert.Equal(t, exitcode.OK, code)
		assert.FileExists(t, filepath.Join(out, "report.html"))
		assert.NoFileExists(t, filepath.Join(out, "report.md"))
	})
	t.Run("usage_and_bad_folder", func(t *testing.T) {
		var stderr bytes.Buffer
		assert.Equal(t, exitcode.Config, report.Main(nil, io.Discard, &stderr))
		assert.Contains(t, stderr.String(), "want exactly one run folder")
		assert.Equal(t, exitcode.Config, report.Main([]string{"--format", "pdf", t.TempDir()}, io.Discard, io.Discard))
		stderr.Reset()
		assert.Equal(t, exitcode.Config, report.Main([]string{filepath.Join(t.TempDir(), "nope")}, io.Discard, &stderr))
		assert.Contains(t, stderr.String(), "cannot be read")
	})
	t.Run("junit_subcommand", func(t *testing.T) {
		f := newFixture(t, "prod")
		dir := f.run(runOpts{searchFails: true, stopAfter: "phase4"})
		// A JUnit file as gotestsum writes it for that gate.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "smoke.junit.xml"), []byte(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="1" errors="0" time="1.0">
	<testsuite tests="2" failures="1" time="1.0" name="github.com/granter/runbook/smoke" timestamp="2026-03-03T14:41:00Z">
		<testcase classname="github.com/granter/runbook/smoke" name="TestSearch/filter_category" time="0.15">
			<failure message="Failed" type="">=== RUN   TestSearch/filter_category
    runt.go:52: FAILED: GET https://api.granter.example.com/search?category=research: result 3 has category culture, want research
--- FAIL: TestSearch/filter_category (0.15s)
</failure>
		</testcase>
		<testcase classname="github.com/granter/runbook/smoke" name="TestAuth/login" time="0.15"></testcase>
	</testsuite>
</testsuites>`), 0o644))
		var stdout bytes.Buffer
		require.Equal(t, exitcode.OK, report.Main([]string{"junit", dir}, &stdout, io.Discard))
		b, err := os.ReadFile(filepath.Join(dir, "smoke.junit.xml"))
		require.NoError(t, err)
		assert.Contains(t, string(b), `message="GET https://api.granter.example.com/search?category=research: result 3 has category culture, want research"`)
		assert.Contains(t, string(b), "<system-out>evidence:", "the passing login step carries what it saw")
		assert.Contains(t, string(b), `errors="0"`)
	})
}

// TestSample renders the sample reports (a run with one failed smoke flow,
// a healthy one); with RUNBOOK_REPORT_SAMPLE=DIR it keeps them there, for
// looking at them in a browser (docs/report-screenshot.png was taken so).
func TestSample(t *testing.T) {
	for name, o := range map[string]runOpts{"failed-smoke": {searchFails: true, phase3Overrun: true, stopAfter: "phase4"}, "approved": {}} {
		f := newFixture(t, "prod")
		dir := f.run(o)
		code := report.MainWith([]string{dir}, io.Discard, io.Discard, targetRedact)
		html, err := os.ReadFile(filepath.Join(dir, "report.html"))
		require.NoError(t, err)
		assert.Greater(t, len(html), 10_000, name)
		if name == "approved" {
			assert.Equal(t, exitcode.OK, code)
		}
		if keep := os.Getenv("RUNBOOK_REPORT_SAMPLE"); keep != "" {
			dst := filepath.Join(keep, name)
			require.NoError(t, os.MkdirAll(dst, 0o755))
			for _, file := range []string{"report.html", "report.md"} {
				b, err := os.ReadFile(filepath.Join(dir, file))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dst, file), b, 0o644))
			}
			t.Logf("sample %s: %s", name, dst)
		}
	}
}
