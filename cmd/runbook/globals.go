package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/granter/runbook/internal/target"
)

// globals are the kubectl-style flags every subcommand takes, anywhere on
// its line: --env, --kubeconfig, --context, -n/--namespace, and --run (the
// run folder: --run-dir, or the RUN argument of report).
type globals struct {
	env, kubeconfig, context, namespace string
}

// globalFlags maps each spelling to its field.
var globalFlags = map[string]func(*globals) *string{
	"env":        func(g *globals) *string { return &g.env },
	"kubeconfig": func(g *globals) *string { return &g.kubeconfig },
	"context":    func(g *globals) *string { return &g.context },
	"namespace":  func(g *globals) *string { return &g.namespace },
	"n":          func(g *globals) *string { return &g.namespace },
}

// takeGlobals takes the global flags out of args (own: flags the command
// defines itself, left alone) and turns --run DIR into --run-dir=DIR, or
// into the positional DIR for a command without --run-dir (positional).
func takeGlobals(args, own []string, positional bool) (globals, []string, error) {
	var g globals
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		field, isGlobal := globalFlags[name]
		if (!isGlobal && name != "run") || slices.Contains(own, name) {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return g, nil, fmt.Errorf("flag %s needs a value", a)
			}
			i++
			value = args[i]
		}
		if name == "run" {
			if positional {
				rest = append(rest, value)
			} else {
				rest = append(rest, "--run-dir="+value)
			}
			continue
		}
		*field(&g) = value
	}
	return g, rest, nil
}

// check refuses an --env this binary was not built for: the environment
// is a build tag (bin/runbook-<env>), so that prod never links what local
// needs.
func (g globals) check() error {
	if g.env != "" && g.env != target.Env {
		return fmt.Errorf("--env=%s: this binary is built for %s; run bin/runbook-%s (make build)", g.env, target.Env, g.env)
	}
	return nil
}

// apply overrides the environment file's kube settings with the flags.
func (g globals) apply(tgt *target.Target) error {
	if g.kubeconfig == "" && g.context == "" && g.namespace == "" {
		return nil
	}
	if tgt.Kube == nil {
		return fmt.Errorf("--kubeconfig/--context/--namespace: the target (%s) names no cluster (kube:)", tgt.File)
	}
	if g.kubeconfig != "" {
		tgt.Kube.Kubeconfig = g.kubeconfig
	}
	if g.context != "" {
		tgt.Kube.Context = g.context
	}
	if g.namespace != "" {
		tgt.Kube.Namespace = g.namespace
	}
	return nil
}

type globalsKey struct{}

func withGlobals(ctx context.Context, g globals) context.Context {
	return context.WithValue(ctx, globalsKey{}, g)
}

func globalsOf(ctx context.Context) globals {
	g, _ := ctx.Value(globalsKey{}).(globals)
	return g
}
