package flagorder_test

import (
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/flagorder"
)

// Flags after a positional argument are parsed, with their values; a
// positional that looks like a flag after "--" stays positional.
func TestFlagsAfterPositionals(t *testing.T) {
	for _, c := range []struct {
		args []string
		out  string
		dry  bool
		pos  []string
	}{
		{[]string{"RUN", "--out", "X"}, "X", false, []string{"RUN"}},
		{[]string{"RUN", "--out=X", "--dry-run"}, "X", true, []string{"RUN"}},
		{[]string{"--dry-run", "RUN", "-out", "X", "MORE"}, "X", true, []string{"RUN", "MORE"}},
		{[]string{"RUN", "--", "--out", "X"}, "", false, []string{"RUN", "--out", "X"}},
		{[]string{"--out", "Y"}, "Y", false, nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		out := fs.String("out", "", "")
		dry := fs.Bool("dry-run", false, "")
		require.NoError(t, fs.Parse(flagorder.Reorder(fs, c.args)), "%q", c.args)
		assert.Equal(t, c.out, *out, "--out of %q", c.args)
		assert.Equal(t, c.dry, *dry, "--dry-run of %q", c.args)
		if c.pos == nil {
			c.pos = []string{}
		}
		assert.Equal(t, c.pos, fs.Args(), "positionals of %q", c.args)
	}
}

// A flag without its value is an error, never "--" taken as the value.
func TestMissingValue(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("out", "", "")
	assert.Error(t, fs.Parse(flagorder.Reorder(fs, []string{"--out"})))
	assert.Equal(t, []string{"RUN", "--out"}, flagorder.Reorder(fs, []string{"RUN", "--out"}))
}
