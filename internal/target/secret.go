package target

import (
	"fmt"
	"net/url"
	"strings"
)

// Secret holds a value read from an environment variable. It never prints
// its value: fmt verbs, JSON and logs all show the redacted form. Call
// Reveal only where the value is sent to the system that needs it.
type Secret struct {
	name  string // the environment variable it was read from
	value string
}

// NewSecret makes a Secret; name is where the value came from.
func NewSecret(name, value string) Secret { return Secret{name: name, value: value} }

// Name is the environment variable the secret was read from.
func (s Secret) Name() string { return s.name }

// Reveal returns the value. Never log or print it.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret holds no value.
func (s Secret) IsZero() bool { return s.value == "" }

// String returns the redacted form.
func (s Secret) String() string { return "[REDACTED:" + s.name + "]" }

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// Format keeps every fmt verb from printing the value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalText makes JSON and YAML encoders write the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Redact replaces every secret value found in text by its redacted form,
// and, for a URL secret, the password of its user info on its own (drivers
// quote it in errors). Values shorter than 4 characters are not replaced:
// they would mangle ordinary text and are not secrets worth the name.
func Redact(text string, secrets ...Secret) string {
	for _, s := range secrets {
		for _, v := range []string{s.value, s.password()} {
			if len(v) >= 4 {
				text = strings.ReplaceAll(text, v, s.String())
			}
		}
	}
	return text
}

// password is the user-info password when the secret is a URL.
func (s Secret) password() string {
	u, err := url.Parse(s.value)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// Redact replaces every secret value of the target found in text.
func (t *Target) Redact(text string) string { return Redact(text, t.Secrets()...) }
