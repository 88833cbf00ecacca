package httpcheck_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
)

// A check calls an endpoint, expects a status and decodes the JSON. A
// wrong status is a *StatusError naming the endpoint and showing the body,
// with secrets redacted.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/health" {
			fmt.Fprint(w, `{"status":"healthy","services":{"database":"up","api":"up"}}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"bad token","token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"}`)
	}))
	defer srv.Close()

	c := httpcheck.New("backend-core", srv.URL, target.HTTP{Timeout: 2 * time.Second}, nil)
	ctx := context.Background()

	var health struct{ Status string }
	resp, err := c.GetJSON(ctx, "/health", http.StatusOK, &health)
	fmt.Println(resp.Status, health.Status, err)

	_, err = c.GetJSON(ctx, "/auth/me", http.StatusOK, nil, httpcheck.Bearer("not-shown"))
	if se, ok := err.(*httpcheck.StatusError); ok {
		fmt.Println(se.Got, se.Want, se.Body)
	}
	// Output:
	// 200 healthy <nil>
	// 401 200 {"error":"bad token","token":"[REDACTED]"}
}
