package browser_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/granter/runbook/internal/browser"
)

// chromium is the browser make setup installs.
const chromium = "chromium"

func start(t *testing.T, timeout time.Duration) *browser.Session {
	t.Helper()
	s, err := browser.Start(t.Context(), browser.Options{Path: chromium, Timeout: timeout})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("%s started in %s (pid %d)", s.Path, s.Started.Round(time.Millisecond), s.PID())
	return s
}

func site() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>Home</title><h1>Grants</h1><form action="/find"><input type="search" name="query"><button>Go</button></form>`)
	})
	mux.HandleFunc("GET /find", func(w http.ResponseWriter, r *http.Request) {
		q := html.EscapeString(r.URL.Query().Get("query"))
		fmt.Fprintf(w, `<!doctype html><title>Results</title><h1>Results</h1><ol><li class="result"><h2 class="result-title">%s one</h2></li><li class="result"><h2 class="result-title">%s two</h2></li></ol>`, q, q)
	})
	mux.HandleFunc("GET /blank", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title></title></head><body><div id="root"></div></body></html>`)
	})
	mux.HandleFunc("GET /hidden", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>H</title><h1>H</h1><form style="display:none"><input name="query"><button>Go</button></form>`)
	})
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	return httptest.NewServer(mux)
}

func TestOpenTypeSubmit(t *testing.T) {
	srv := site()
	defer srv.Close()
	s := start(t, 30*time.Second)
	home, err := s.Open(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if home.Status != 200 || home.Title != "Home" || home.Heading != "Grants" || !home.Form.Found || !home.Form.FieldVisible || !home.Form.SubmitVisible || home.Form.Field != "query" {
		t.Fatalf("home page read as %+v", home)
	}
	res, err := s.Search("quantum")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.URL, "/find?query=quantum") || res.Title != "Results" || strings.Join(res.Results, "|") != "quantum one|quantum two" {
		t.Fatalf("results page read as %+v", res)
	}
}

func TestBlankAndHidden(t *testing.T) {
	srv := site()
	defer srv.Close()
	s := start(t, 30*time.Second)
	blank, err := s.Open(srv.URL + "/blank")
	if err != nil {
		t.Fatal(err)
	}
	if blank.Title != "" || blank.Heading != "" || blank.Form.Found || blank.Text != "" || !strings.Contains(blank.Excerpt(), "blank page") {
		t.Fatalf("blank page read as %+v (excerpt %s)", blank, blank.Excerpt())
	}
	hidden, err := s.Open(srv.URL + "/hidden")
	if err != nil {
		t.Fatal(err)
	}
	if !hidden.Form.Found || hidden.Form.FieldVisible || hidden.Form.SubmitVisible {
		t.Fatalf("a hidden form read as visible: %+v", hidden.Form)
	}
}

// A page that never answers ends the action at its deadline, with a
// message naming it, and Close still stops the browser.
func TestDeadline(t *testing.T) {
	srv := site()
	defer srv.Close()
	defer srv.CloseClientConnections()
	s, err := browser.Start(t.Context(), browser.Options{Path: chromium, Timeout: time.Minute, ActionTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err = s.Open(srv.URL + "/hang")
	took := time.Since(began)
	if err == nil || !strings.Contains(err.Error(), "/hang took longer than 3s (the browser's action timeout)") {
		t.Errorf("Open of a hanging page: err %v, want the deadline named", err)
	}
	if took > 8*time.Second {
		t.Errorf("Open of a hanging page took %s, want about the 3 s deadline", took)
	}
	pid := s.PID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if pid == 0 {
		t.Fatal("no browser pid: cannot check that it stopped")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// The session's own deadline ends everything, even the browser's start.
func TestSessionDeadline(t *testing.T) {
	_, err := browser.Start(t.Context(), browser.Options{Path: chromium, Timeout: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "the browser step ran out of time (1ms, browser.timeout)") {
		t.Fatalf("Start with a 1 ms deadline: err %v, want the deadline named", err)
	}
}

func TestMissingBrowser(t *testing.T) {
	_, err := browser.Start(context.Background(), browser.Options{Path: "no-such-browser-here", Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), `browser "no-such-browser-here" not found`) {
		t.Fatalf("err %v, want the missing browser named", err)
	}
}
