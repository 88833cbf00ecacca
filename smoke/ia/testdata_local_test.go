//go:build !staging && !prod

package ia

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference services are proven against the fixture's copy of the
// known document; the flow embeds its own. They must not drift apart.
func TestKnownDocumentMatchesTheFixture(t *testing.T) {
	doc, err := os.ReadFile("../../fixtures/granter/testdata/grant-notice.txt")
	require.NoError(t, err)
	fields, err := os.ReadFile("../../fixtures/granter/testdata/grant-notice.json")
	require.NoError(t, err)
	assert.Equal(t, string(doc), KnownDocument)
	assert.JSONEq(t, string(fields), string(knownFieldsJSON))
}
