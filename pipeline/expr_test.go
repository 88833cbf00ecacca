package pipeline_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rhysd/actionlint"
)

// evalContext is what a GitHub Actions expression can read: the contexts
// (needs, inputs, secrets, ...) as nested maps, and the job status that
// failure(), success() and always() report.
type evalContext struct {
	contexts map[string]any
	failed   bool // a job this one needs failed
}

// eval evaluates a GitHub Actions expression (the text inside ${{ }}, or
// an if: condition). It knows the operators and the functions the workflow
// uses (contains, fromJSON, startsWith, endsWith, failure, success,
// always, cancelled); anything else is an error, never a guess.
func eval(src string, ec evalContext) (any, error) {
	n, perr := actionlint.NewExprParser().Parse(actionlint.NewExprLexer(src + "}}"))
	if perr != nil {
		return nil, fmt.Errorf("parse %q: %s", src, perr.Message)
	}
	return ec.node(n)
}

func (ec evalContext) node(n actionlint.ExprNode) (any, error) {
	switch n := n.(type) {
	case *actionlint.StringNode:
		return n.Value, nil
	case *actionlint.BoolNode:
		return n.Value, nil
	case *actionlint.NullNode:
		return nil, nil
	case *actionlint.IntNode:
		return float64(n.Value), nil
	case *actionlint.FloatNode:
		return n.Value, nil
	case *actionlint.VariableNode:
		return ec.contexts[strings.ToLower(n.Name)], nil
	case *actionlint.ObjectDerefNode:
		recv, err := ec.node(n.Receiver)
		if err != nil {
			return nil, err
		}
		return property(recv, n.Property), nil
	case *actionlint.NotOpNode:
		v, err := ec.node(n.Operand)
		return !truthy(v), err
	case *actionlint.LogicalOpNode:
		l, err := ec.node(n.Left)
		if err != nil {
			return nil, err
		}
		// Both operators return an operand, as GitHub's do.
		if (n.Kind == actionlint.LogicalOpNodeKindAnd) != truthy(l) {
			return l, nil
		}
		return ec.node(n.Right)
	case *actionlint.CompareOpNode:
		l, err := ec.node(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := ec.node(n.Right)
		if err != nil {
			return nil, err
		}
		switch n.Kind {
		case actionlint.CompareOpNodeKindEq:
			return equal(l, r), nil
		case actionlint.CompareOpNodeKindNotEq:
			return !equal(l, r), nil
		}
		return nil, fmt.Errorf("comparison %v is not supported by this evaluator", n.Kind)
	case *actionlint.FuncCallNode:
		return ec.call(n)
	}
	return nil, fmt.Errorf("expression %T is not supported by this evaluator", n)
}

func (ec evalContext) call(n *actionlint.FuncCallNode) (any, error) {
	args := make([]any, len(n.Args))
	for i, a := range n.Args {
		v, err := ec.node(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	name := strings.ToLower(n.Callee)
	want := map[string]int{"failure": 0, "success": 0, "always": 0, "cancelled": 0, "fromjson": 1, "contains": 2, "startswith": 2, "endswith": 2}
	if w, ok := want[name]; !ok || w != len(args) {
		return nil, fmt.Errorf("function %s with %d arguments is not supported by this evaluator", n.Callee, len(args))
	}
	switch name {
	case "failure":
		return ec.failed, nil
	case "success":
		return !ec.failed, nil
	case "always":
		return true, nil
	case "cancelled":
		return false, nil
	case "fromjson":
		var v any
		err := json.Unmarshal([]byte(str(args[0])), &v)
		return v, err
	case "contains":
		if list, ok := args[0].([]any); ok {
			for _, e := range list {
				if equal(e, args[1]) {
					return true, nil
				}
			}
			return false, nil
		}
		return strings.Contains(strings.ToLower(str(args[0])), strings.ToLower(str(args[1]))), nil
	case "startswith":
		return strings.HasPrefix(strings.ToLower(str(args[0])), strings.ToLower(str(args[1]))), nil
	default: // endswith
		return strings.HasSuffix(strings.ToLower(str(args[0])), strings.ToLower(str(args[1]))), nil
	}
}

func property(v any, name string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for k, e := range m {
		if strings.EqualFold(k, name) {
			return e
		}
	}
	return nil
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0
	}
	return true
}

// equal compares as GitHub does for the values this workflow compares:
// strings case-insensitively, null equal to null.
func equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return strings.EqualFold(str(a), str(b))
}

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return fmt.Sprint(v)
}
