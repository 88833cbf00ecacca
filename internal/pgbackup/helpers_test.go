package pgbackup_test

import "os"

// tempDir is a folder for an Example (which has no testing.T).
func tempDir() (string, func()) {
	dir, err := os.MkdirTemp("", "pgbackup-example-")
	if err != nil {
		panic(err)
	}
	return dir, func() { _ = os.RemoveAll(dir) }
}
