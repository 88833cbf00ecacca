package envcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The status contract: one line per migration with its 14-digit timestamp
// and "success" or "pending" (granter migrate status; npm run
// migration:status prints the same words).
func TestParseStatus(t *testing.T) {
	out := `TIMESTAMP       NAME                                  STATE
20250601000000  InitialSchema20250601000000           success
20260127000050  AddGrantsEligibility20260127000050    pending
[X] 20260127000100-AddGrantsSearchVector success
  - 20260127000200 AddUsersLastLoginAt pending
a line without a migration`
	pending, listed := parseStatus(out)
	assert.Equal(t, []string{"20260127000050", "20260127000200"}, pending)
	assert.Equal(t, 4, listed)
}
