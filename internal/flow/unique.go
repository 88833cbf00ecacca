package flow

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"
)

// Unique returns prefix + "<unixnano>-<random>": a name no other run,
// here or on another machine, will choose, so that smoke data in a shared
// environment is never confused with real data or another run's, and can
// be found by its prefix.
func Unique(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + strconv.FormatInt(time.Now().UnixNano(), 10) + "-" + hex.EncodeToString(b[:])
}
