//go:build prod && !staging

package target

// envName is chosen by the build tag.
const envName = "prod"
