//go:build staging && !prod

package target

// envName is chosen by the build tag.
const envName = "staging"
