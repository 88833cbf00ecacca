package auth

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTamperChangesEveryToken(t *testing.T) {
	tok := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"42","exp":1700000000}`)) +
		".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	got := tamper(tok)
	require.Len(t, got, 2)
	for _, tt := range got {
		assert.NotEqual(t, tok, tt.token, tt.how)
		assert.Len(t, strings.Split(tt.token, "."), 3, tt.how)
	}
	parts := strings.Split(got[1].token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	assert.Contains(t, string(payload), `"sub":"42"`, "the claims still name the same user")
	assert.NotEqual(t, flipMiddle("AAAA"), "AAAA")
	assert.Len(t, tamper("opaque-token"), 1)
}
