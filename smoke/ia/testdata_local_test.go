//go:build !staging && !prod

package ia

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/granter"
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

// The other known documents are read by the reference services' fallback
// as their .json says: the expectations are the extractor's contract, not
// a guess (the flow proves the deployed fallback the same way).
func TestFallbackDocumentsReadByTheReference(t *testing.T) {
	docs := FallbackDocuments()
	require.GreaterOrEqual(t, len(docs), 3)
	regions := map[string]bool{KnownFields().Region: true}
	for _, d := range docs {
		t.Run(d.Name, func(t *testing.T) {
			raw, err := json.Marshal(granter.Extract(d.Text))
			require.NoError(t, err)
			var got Fields
			require.NoError(t, json.Unmarshal(raw, &got))
			assert.Empty(t, d.Fields.Mismatches(got))
			assert.Equal(t, d.Fields, got, "exactly, not only as Mismatches normalises text")
		})
		regions[d.Fields.Region] = true
	}
	assert.Len(t, regions, len(docs)+1, "each known document is of a region of its own")
}
