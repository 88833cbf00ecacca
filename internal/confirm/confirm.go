// Package confirm is how a destructive step on a target with a
// confirmation word (staging, prod) is confirmed: the word on the command
// line, or the environment and the version typed at a terminal. CONFIRM
// exported in a shell is never enough.
package confirm

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/target"
)

// Env is the variable make reads its CONFIRM= from. Exported in a
// shell it stays set for every later command, so it is never a
// confirmation by itself: make passes --confirm only for a CONFIRM given
// on its own command line ($(origin CONFIRM) is "command line"), and the
// runbook reads the word from --confirm or from a person typing it. The
// same holds on staging and prod: a target with a confirmation word needs
// it each time, whatever its name.
const Env = "CONFIRM"

// Prompt asks a person at a terminal: it shows question and returns the
// line typed. Nil when there is no terminal (CI, a pipe): then only the
// command line confirms.
type Prompt func(question string) (string, error)

// TerminalPrompt is a Prompt on in and out when in is a terminal (a
// character device); nil otherwise.
func TerminalPrompt(in *os.File, out io.Writer) Prompt {
	if in == nil {
		return nil
	}
	st, err := in.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	r := bufio.NewReader(in)
	return func(q string) (string, error) {
		fmt.Fprint(out, q)
		line, err := r.ReadString('\n')
		if err != nil && line == "" {
			return "", err
		}
		return strings.TrimSpace(line), nil
	}
}

// Phrase is what a person types to confirm a change of tgt to version:
// the environment and the version ("prod v2.0.0").
func Phrase(tgt *target.Target, version string) string {
	return strings.TrimSpace(tgt.Confirm + " " + version)
}

// Confirmation is how a change that needs the target's word was
// confirmed: Given is the word from the command line (--confirm, which
// make passes for a CONFIRM= on its command line); Ask, when not nil, lets
// a person type Phrase instead.
type Confirmation struct {
	Given string
	Ask   Prompt
}

// Check refuses what (the steps or the rollback that would change the
// target) unless the target needs no word, Given is it, or a person typed
// Phrase(tgt, version) at Ask's prompt. The refusal (an
// *exitcode.Refusal, exit code 8) says how to confirm, and says when
// CONFIRM is only exported in the environment.
func (c Confirmation) Check(tgt *target.Target, version, what string) error {
	if tgt.Confirm == "" || c.Given == tgt.Confirm {
		return nil
	}
	phrase := Phrase(tgt, version)
	var why []string
	switch {
	case c.Given != "":
		why = append(why, fmt.Sprintf("--confirm=%s does not match", c.Given))
	case os.Getenv(Env) != "":
		why = append(why, fmt.Sprintf("%s=%s is only exported in the environment, which is not a confirmation (it stays set for every later command)", Env, os.Getenv(Env)))
	default:
		why = append(why, "no confirmation was given")
	}
	if c.Ask != nil {
		typed, err := c.Ask(fmt.Sprintf("%s would change %s. Type %q to continue: ", what, tgt.Env, phrase))
		switch {
		case err != nil:
			why = append(why, "nothing was typed ("+err.Error()+")")
		case typed == phrase:
			return nil
		default:
			why = append(why, fmt.Sprintf("%q was typed, not %q", typed, phrase))
		}
	}
	return exitcode.Refuse("", fmt.Sprintf("%s would change %s and %s; nothing was touched. Confirm on the command line: CONFIRM=%s on make's command line (make ... CONFIRM=%s) or --confirm=%s, or run it at a terminal and type %q; or --dry-run to see the plan",
		what, tgt.Env, strings.Join(why, "; "), tgt.Confirm, tgt.Confirm, tgt.Confirm, phrase))
}
