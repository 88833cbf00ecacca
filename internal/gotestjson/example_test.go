package gotestjson_test

import (
	"fmt"
	"strings"

	"github.com/granter/runbook/internal/gotestjson"
)

func ExampleParse() {
	out := `{"Action":"run","Package":"p","Test":"TestAuth/login"}
{"Action":"output","Package":"p","Test":"TestAuth/login","Output":"    runt.go:60: FAILED: POST http://api/auth/login: status 500, want 200\n"}
{"Action":"fail","Package":"p","Test":"TestAuth/login","Elapsed":0.2}
{"Action":"fail","Package":"p","Test":"TestAuth","Elapsed":0.3}
`
	res, err := gotestjson.Parse(strings.NewReader(out))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range res.Leaves() {
		fmt.Printf("%s %s: %s\n", t.Name, t.Status, t.Message())
	}
	fmt.Println(res.Reason(res.Test("TestAuth")))
	// Output:
	// TestAuth/login failed: POST http://api/auth/login: status 500, want 200
	// TestAuth/login: POST http://api/auth/login: status 500, want 200
}
