//go:build !staging && !prod

package target

// envName is chosen by the build tag: no tag means the local platform.
const envName = "local"
