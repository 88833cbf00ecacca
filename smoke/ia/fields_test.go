package ia

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKnownFields(t *testing.T) {
	want := KnownFields()
	assert.Equal(t, int64(250000), want.Amount)
	assert.Contains(t, KnownDocument, want.Title)
	assert.Empty(t, want.Mismatches(want))
	got := want
	got.Amount, got.Region, got.Category = 25000000, "environment", "occitanie"
	got.Title = "  industrial sme energy transition -  OCCITANIE 2026 "
	assert.Equal(t, []string{`amount 25000000, want 250000`, `region "environment", want "occitanie"`, `category "occitanie", want "environment"`},
		want.Mismatches(got))
}
