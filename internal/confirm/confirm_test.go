package confirm_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/granter/runbook/internal/confirm"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/target"
)

var prod = &target.Target{Env: "prod", Confirm: "prod"}

func refusedWith(t *testing.T, err error, says ...string) {
	t.Helper()
	var ec *exitcode.Error
	if !errors.As(err, &ec) || ec.Code != exitcode.Refused {
		t.Fatalf("want a refusal (exit %d), got %v", exitcode.Refused, err)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the refusal does not say %q:\n%s", s, err)
		}
	}
}

func TestCheck(t *testing.T) {
	const what = "Step 2.1 Run Pending Migrations"
	t.Run("CONFIRM exported in the shell is not enough", func(t *testing.T) {
		t.Setenv(confirm.Env, "prod")
		refusedWith(t, confirm.Confirmation{}.Check(prod, "v2.0.0", what),
			"CONFIRM=prod is only exported in the environment", "make ... CONFIRM=prod", "--confirm=prod", `type "prod v2.0.0"`, "nothing was touched")
	})
	t.Run("the word on the command line", func(t *testing.T) {
		t.Setenv(confirm.Env, "")
		if err := (confirm.Confirmation{Given: "prod"}).Check(prod, "v2.0.0", what); err != nil {
			t.Fatalf("--confirm=prod must confirm: %v", err)
		}
		refusedWith(t, confirm.Confirmation{Given: "staging"}.Check(prod, "v2.0.0", what), "--confirm=staging does not match")
	})
	t.Run("typed at a terminal: the environment and the version", func(t *testing.T) {
		t.Setenv(confirm.Env, "prod")
		var asked string
		ask := func(typed string) confirm.Prompt {
			return func(q string) (string, error) { asked = q; return typed, nil }
		}
		if err := (confirm.Confirmation{Ask: ask("prod v2.0.0")}).Check(prod, "v2.0.0", what); err != nil {
			t.Fatalf(`typing "prod v2.0.0" must confirm: %v`, err)
		}
		if !strings.Contains(asked, `Type "prod v2.0.0" to continue`) || !strings.Contains(asked, what) {
			t.Errorf("the prompt %q must name what changes and the phrase to type", asked)
		}
		refusedWith(t, confirm.Confirmation{Ask: ask("prod")}.Check(prod, "v2.0.0", what), `"prod" was typed, not "prod v2.0.0"`)
		refusedWith(t, confirm.Confirmation{Ask: ask("prod v1.9.0")}.Check(prod, "v2.0.0", what), `not "prod v2.0.0"`)
	})
	t.Run("a target without a word needs none", func(t *testing.T) {
		if err := (confirm.Confirmation{}).Check(&target.Target{Env: "local"}, "v2.0.0", what); err != nil {
			t.Fatal(err)
		}
	})
}

// The Makefile passes --confirm only for a CONFIRM given on make's own
// command line, never for one exported in the shell.
func TestMakefilePassesOnlyACommandLineConfirm(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skipf("SKIPPED, NOT PASSED: make is not installed: %v", err)
	}
	for _, target := range []string{"deploy", "rollback", "monitor"} {
		run := func(env []string, args ...string) string {
			cmd := exec.Command("make", append([]string{"-n", "-C", "../..", target, "ENV=prod", "RUN=runs/x-prod"}, args...)...)
			cmd.Env = append(cmd.Environ(), env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n %s: %v\n%s", target, err, out)
			}
			return string(out)
		}
		if out := run([]string{"CONFIRM="}, "CONFIRM=prod"); !strings.Contains(out, "--confirm=prod") {
			t.Errorf("make -n %s ENV=prod CONFIRM=prod: want --confirm=prod passed, got:\n%s", target, out)
		}
		if out := run([]string{"CONFIRM=prod"}); strings.Contains(out, "--confirm") {
			t.Errorf("CONFIRM=prod make -n %s ENV=prod (exported): want no --confirm, got:\n%s", target, out)
		}
	}
}
