//go:build !unix

package proc

import (
	"os/exec"
	"syscall"
)

// inGroup leaves cmd as it is: without process groups, exec.CommandContext
// kills only the child when the context ends.
func inGroup(*exec.Cmd, syscall.Signal) {}
