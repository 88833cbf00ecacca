// Package browser drives a real headless browser (Debian's chromium, or the
// one a target's file names in browser.path) through chromedp, for the
// checks that must see a page as a user does: rendered, with its form
// usable. Every action is bounded by the session's deadline, and Close
// stops the browser and every process it started, on every path.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Session is one headless browser with one tab.
type Session struct {
	// Path is the browser's executable, as found on PATH.
	Path string
	// Started is how long the browser took to start and open its tab.
	Started time.Duration

	ctx         context.Context // the tab's: every action runs on it
	cancelTab   context.CancelFunc
	cancelAlloc context.CancelFunc
	cancelTime  context.CancelFunc
	pid         int
	closed      bool

	actionTimeout time.Duration

	mu  sync.Mutex
	log []string // chromedp's errors, the last few
}

func (s *Session) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, fmt.Sprintf(format, args...))
	if len(s.log) > 5 {
		s.log = s.log[1:]
	}
}

// Log is what chromedp reported along the way (its last few errors).
func (s *Session) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// Options say which browser to start and how.
type Options struct {
	// Path is the browser: a command on PATH (chromium) or an absolute path.
	Path string
	// Timeout bounds the session and every action on it.
	Timeout time.Duration
	// ActionTimeout bounds each action (loading a page, typing, submitting,
	// reading the page) within Timeout; default DefaultActionTimeout.
	ActionTimeout time.Duration
	// InsecureTLS accepts any certificate, as the target's http.insecureTLS
	// does (the local target only).
	InsecureTLS bool
	// TrustedKeys are the base64 sha256 hashes of server public keys
	// (SPKI) to accept although chromium's own roots do not vouch for
	// them: the keys of certificates the caller has verified against the
	// target's private CA (http.rootCA; see PinVerified). Any other
	// certificate is still checked as usual.
	TrustedKeys []string
}

// DefaultActionTimeout bounds one action when Options.ActionTimeout is 0.
const DefaultActionTimeout = 15 * time.Second

// Start starts the browser headless, with a fresh profile, and opens a
// blank tab. The session, and every action on it, ends at o.Timeout (or
// when ctx ends). On error nothing is left running.
func Start(ctx context.Context, o Options) (*Session, error) {
	path, timeout := o.Path, o.Timeout
	exe, err := exec.LookPath(path)
	if err != nil {
		return nil, fmt.Errorf("browser %q not found: %w (install it: make setup installs chromium; or set browser.path)", path, err)
	}
	began := time.Now()
	s := &Session{Path: exe, actionTimeout: o.ActionTimeout}
	if s.actionTimeout <= 0 {
		s.actionTimeout = DefaultActionTimeout
	}
	tctx, cancelTime := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("the browser step ran out of time (%s, browser.timeout)", timeout))
	s.cancelTime = cancelTime
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		// Root (CI, containers) cannot use chromium's sandbox; the pages
		// are the target's own, over loopback or the target's URLs.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	if o.InsecureTLS {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors", true))
	}
	if len(o.TrustedKeys) > 0 {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(o.TrustedKeys, ",")))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(tctx, opts...)
	s.cancelAlloc = cancelAlloc
	// chromedp's own complaints (a tab torn down at the deadline) are kept
	// for the error message, never printed.
	s.ctx, s.cancelTab = chromedp.NewContext(actx, chromedp.WithErrorf(s.logf), chromedp.WithLogf(func(string, ...any) {}))
	// The first action starts the browser.
	if err := chromedp.Do(s.ctx, chromedp.Navigate("about:blank")); err != nil {
		return nil, errors.Join(fmt.Errorf("starting %s: %w", exe, cause(s.ctx, err)), s.Close())
	}
	if c := chromedp.FromContext(s.ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		s.pid = c.Browser.Process().Pid
	}
	s.Started = time.Since(began)
	return s, nil
}

// PID is the browser's main process (0 when unknown).
func (s *Session) PID() int { return s.pid }

// action returns the context one action runs on: the session's, bounded
// by the action timeout, which names what it bounded.
func (s *Session) action(what string) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(s.ctx, s.actionTimeout, fmt.Errorf("%s took longer than %s (the browser's action timeout)", what, s.actionTimeout))
}

// cause adds the deadline's own message to chromedp's "context deadline
// exceeded".
func cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && !errors.Is(err, c) {
		return fmt.Errorf("%w (%v)", err, c)
	}
	return err
}

// Close stops the browser: closes the tab, then the browser, waits for its
// processes to end and removes its profile. It is safe to call more than
// once; an error says the browser may still be running.
func (s *Session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.cancelTab()
	s.cancelAlloc() // kills the browser and waits for it
	s.cancelTime()
	if s.pid != 0 && alive(s.pid) {
		return fmt.Errorf("browser process %d still running after close", s.pid)
	}
	return nil
}

// alive reports whether pid is a running process (not a zombie).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: Z is a zombie, dead but not reaped.
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// Page is what the browser shows: the page's address, title, and what a
// check reads from it.
type Page struct {
	URL     string
	Status  int64 // the HTML document's HTTP status (0 when not navigated)
	Title   string
	Heading string // the first h1's text
	// Form is the first form holding a text field: its field's name and
	// whether the field and a submit button are visible.
	Form PageForm
	// Results are the result items' titles, in order (.result .result-title).
	Results []string
	// Text is the page's visible text, whitespace collapsed.
	Text string
}

// PageForm is a search form as the page shows it.
type PageForm struct {
	Found, FieldVisible, SubmitVisible bool
	Field, Action                      string
}

// Excerpt is the start of the page's visible text, for messages.
func (p Page) Excerpt() string {
	const n = 300
	switch t := p.Text; {
	case t == "":
		return "(no visible text: a blank page)"
	case len(t) > n:
		return fmt.Sprintf("%q...", t[:n])
	default:
		return fmt.Sprintf("%q", t)
	}
}

// readPage is the script that reads a Page off the DOM.
const readPage = `(() => {
  const visible = el => !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) &&
    getComputedStyle(el).visibility !== 'hidden';
  const h1 = document.querySelector('h1');
  let form = null, field = null;
  for (const f of document.querySelectorAll('form')) {
    field = f.querySelector('input[type=search], input[type=text], input:not([type])');
    if (field) { form = f; break; }
  }
  const submit = form && form.querySelector('button:not([type]), button[type=submit], input[type=submit]');
  return {
    url: location.href,
    title: document.title,
    heading: h1 ? h1.innerText.trim() : '',
    form: {found: !!form, fieldVisible: visible(field), submitVisible: visible(submit),
           field: field ? field.name : '', action: form ? form.action : ''},
    results: Array.from(document.querySelectorAll('.result .result-title')).map(e => e.innerText.trim()),
    text: (document.body ? document.body.innerText : '').replace(/\s+/g, ' ').trim(),
  };
})()`

type pageJSON struct {
	URL     string `json:"url"`
	Title   string `json:"title"`
	Heading string `json:"heading"`
	Form    struct {
		Found         bool   `json:"found"`
		FieldVisible  bool   `json:"fieldVisible"`
		SubmitVisible bool   `json:"submitVisible"`
		Field         string `json:"field"`
		Action        string `json:"action"`
	} `json:"form"`
	Results []string `json:"results"`
	Text    string   `json:"text"`
}

// read reads the current page.
func (s *Session) read(status int64) (Page, error) {
	ctx, cancel := s.action("reading the page")
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[pageJSON](readPage))
	if err != nil {
		return Page{}, fmt.Errorf("reading the page: %w", cause(ctx, err))
	}
	return Page{URL: got.URL, Status: status, Title: got.Title, Heading: got.Heading, Results: got.Results, Text: got.Text,
		Form: PageForm{Found: got.Form.Found, FieldVisible: got.Form.FieldVisible, SubmitVisible: got.Form.SubmitVisible,
			Field: got.Form.Field, Action: got.Form.Action}}, nil
}

// Open loads url, waits for its load event and reads the page.
func (s *Session) Open(url string) (Page, error) {
	ctx, cancel := s.action("loading " + url)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	if err != nil {
		return Page{}, fmt.Errorf("loading %s: %w", url, cause(ctx, err))
	}
	return s.read(statusOf(resp))
}

// Search types text into the page's search field (the first form's text
// field, as Page.Form found it), submits the form with its button as a
// user would, waits for the page it leads to and reads it.
func (s *Session) Search(text string) (Page, error) {
	const field = `form input[type=search], form input[type=text], form input:not([type])`
	const button = `form button:not([type]), form button[type=submit], form input[type=submit]`
	ctx, cancel := s.action(fmt.Sprintf("typing %q", text))
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(field), text)); err != nil {
		return Page{}, fmt.Errorf("typing %q into the search field: %w", text, cause(ctx, err))
	}
	ctx, cancel = s.action("submitting the search form")
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		return Page{}, fmt.Errorf("submitting the search form: %w", cause(ctx, err))
	}
	return s.read(statusOf(resp))
}

func statusOf(resp *network.Response) int64 {
	if resp == nil {
		return 0
	}
	return resp.Status
}
