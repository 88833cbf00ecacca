package report_test

import (
	"fmt"

	"github.com/granter/runbook/internal/report"
)

// Every string the report reads passes through RedactCommon (and the
// target's own redactor, when given): the report shows no secret even when
// a journal or a test's output let one through.
func ExampleRedactCommon() {
	fmt.Println(report.RedactCommon("pg_dump: connection to postgres://granter:s3cret-pw@db:5432/granter_db refused"))
	fmt.Println(report.RedactCommon("GET /auth/me with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig: 200"))
	// Output:
	// pg_dump: connection to postgres://granter:[REDACTED]@db:5432/granter_db refused
	// GET /auth/me with Authorization: Bearer [REDACTED]: 200
}
