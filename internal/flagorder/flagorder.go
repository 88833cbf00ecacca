// Package flagorder lets a Go flag.FlagSet take its flags anywhere on the
// command line, as kubectl and cobra do (runbook report RUN --out X): the
// standard flag package stops at the first positional argument.
package flagorder

import (
	"flag"
	"strings"
)

// Reorder returns args with every flag of fs (and its value) first, then
// "--", then the positional arguments in their order. A flag that takes a
// value and is written without "=" takes the next argument. Arguments
// after a "--" stay positional. Unknown flags are kept as flags, so that
// fs.Parse reports them; so is a line whose last flag lacks its value
// (returned as it is).
func Reorder(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBool(f) {
			if i+1 >= len(args) {
				// No value: left as written, so that fs.Parse says so
				// rather than take "--" for its value.
				return args
			}
			i++
			flags = append(flags, args[i])
		}
	}
	if len(pos) == 0 {
		return flags
	}
	return append(append(flags, "--"), pos...)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
