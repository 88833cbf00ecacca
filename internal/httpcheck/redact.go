package httpcheck

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	// A JSON Web Token: three base64url parts, the first a JSON header.
	jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)
	// "token": "...", "password": "...", and their kin in a JSON body.
	fieldPattern = regexp.MustCompile(`(?i)("(?:token|access_token|refresh_token|id_token|password|api_key|apikey|secret|client_secret)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	// An Authorization header value echoed back.
	bearerPattern = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)
	spaces        = regexp.MustCompile(`\s+`)
)

// redactPatterns removes what looks like a credential even when nobody
// told the client it is one.
func redactPatterns(s string) string {
	s = jwtPattern.ReplaceAllString(s, "[REDACTED:jwt]")
	s = fieldPattern.ReplaceAllString(s, `$1"[REDACTED]"`)
	s = bearerPattern.ReplaceAllString(s, "$1 [REDACTED]")
	return s
}

// excerpt collapses whitespace and cuts s to ExcerptLen characters, saying
// how much was left out. Callers redact before cutting, so that a secret
// cut in half is never shown.
func excerpt(s string) string {
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	if utf8.RuneCountInString(s) <= ExcerptLen {
		return s
	}
	r := []rune(s)
	return string(r[:ExcerptLen]) + "…(" + strconv.Itoa(len(r)-ExcerptLen) + " more characters)"
}
