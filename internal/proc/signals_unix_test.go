//go:build unix

package proc_test

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/proc"
)

// Each of the signals that interrupt a run cancels NotifyContext's
// context, with the signal as its cause, and says so; a second signal
// does not kill the process while it brings the step to a known state. A
// signal left out of proc.Signals would kill the helper instead (SIGHUP
// did, before issue 12).
func TestSignalsCancelTheContext(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(proc.Name(sig), func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), helperEnv+"=notify")
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, out.(*os.File).SetReadDeadline(time.Now().Add(30*time.Second)))
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			r := bufio.NewReader(out)
			line := func(what string) string {
				t.Helper()
				l, err := r.ReadString('\n')
				require.NoError(t, err, "the helper's next line: %s; read so far: %q", what, l)
				return l
			}
			require.Equal(t, "ready\n", line("ready"))

			require.NoError(t, cmd.Process.Signal(sig))
			assert.Equal(t, "\n", line("the blank line before the notice"))
			assert.Equal(t, "helper: "+proc.Describe(sig)+": bringing the current step to a known state and journaling it, then stopping\n",
				line("the notice"))
			assert.Equal(t, "cause: interrupted by "+proc.Describe(sig)+"\n", line("the context's cause"))

			require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
			again := line("what a second signal does")
			assert.True(t, strings.HasPrefix(again, "helper: "+proc.Describe(syscall.SIGHUP)+": still bringing the current step to a known state"), "saw %q", again)

			require.NoError(t, stdin.Close())
			assert.Equal(t, "exiting\n", line("exiting"))
			err = cmd.Wait()
			assert.NoError(t, err, "the helper exits on its own (%s), not by the signal", cmd.ProcessState)
		})
	}
}
