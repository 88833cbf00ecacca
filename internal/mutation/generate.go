package mutation

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Operators, as they appear in mutant ids.
const (
	OpNegate      = "negate"       // if c        -> if !(c)
	OpCondTrue    = "cond-true"    // if c        -> if true (the condition dropped)
	OpCondFalse   = "cond-false"   // if c        -> if false (the branch dropped)
	OpDropLeft    = "drop-left"    // a && b      -> b
	OpDropRight   = "drop-right"   // a && b      -> a
	OpAndOr       = "and-or"       // &&          <-> ||
	OpBoundary    = "boundary"     // <  <=  >  >= shifted by one
	OpRelFlip     = "rel-flip"     // ==          <-> !=
	OpConst       = "const"        // integer n   -> n+1 (0 -> 1)
	OpStrEmpty    = "str-empty"    // "text" (a value in a literal) -> ""
	OpRemoveStmt  = "remove-stmt"  // a call or an assignment removed
	OpSwapArgs    = "swap-args"    // f(a, b, ...) -> f(b, a, ...)
	OpEarlyReturn = "early-return" // return (zero values) before the body
	OpArith       = "arith"        // + <-> -, * -> /
)

// Operators lists every operator, in the order samples take them.
var Operators = []string{
	OpNegate, OpCondTrue, OpCondFalse, OpDropLeft, OpDropRight, OpAndOr, OpBoundary,
	OpRelFlip, OpConst, OpStrEmpty, OpRemoveStmt, OpSwapArgs, OpEarlyReturn, OpArith,
}

// Mutant is one change to one file.
type Mutant struct {
	// ID is file:func:operator:n, stable across edits outside func.
	ID   string
	File string // base name of the file changed
	Func string // Recv.Name, Name, or "package" outside any function
	Op   string
	Line int
	Col  int
	// Change says what was changed: "a < b -> a <= b".
	Change string

	path  string // the file's path
	index int    // the site's index among the file's sites
}

// Where is file:line:col.
func (m Mutant) Where() string { return fmt.Sprintf("%s:%d:%d", m.File, m.Line, m.Col) }

// Path is the path of the original file.
func (m Mutant) Path() string { return m.path }

// site is one place a mutation applies, in a parsed file: apply changes
// that AST in place.
type site struct {
	op, fn string
	pos    token.Pos
	change string
	apply  func()
}

// Generate lists the mutants of the given files (paths), in file and
// source order.
func Generate(paths []string) ([]Mutant, error) {
	var out []Mutant
	for _, p := range paths {
		fset, f, err := parse(p)
		if err != nil {
			return nil, err
		}
		ss := sites(fset, f)
		seen := map[string]int{}
		for i, s := range ss {
			key := s.fn + ":" + s.op
			seen[key]++
			pos := fset.Position(s.pos)
			base := filepath.Base(p)
			out = append(out, Mutant{
				ID:   fmt.Sprintf("%s:%s:%s:%d", base, s.fn, s.op, seen[key]),
				File: base, Func: s.fn, Op: s.op, Line: pos.Line, Col: pos.Column,
				Change: s.change, path: p, index: i,
			})
		}
	}
	return out, nil
}

// Source returns the mutant's whole file: the original parsed again, the
// one site changed, formatted.
func (m Mutant) Source() ([]byte, error) {
	fset, f, err := parse(m.path)
	if err != nil {
		return nil, err
	}
	ss := sites(fset, f)
	if m.index >= len(ss) || ss[m.index].op != m.Op {
		return nil, fmt.Errorf("mutation %s: %s changed since the mutants were listed", m.ID, m.path)
	}
	ss[m.index].apply()
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return nil, fmt.Errorf("mutation %s: printing: %w", m.ID, err)
	}
	return buf.Bytes(), nil
}

func parse(path string) (*token.FileSet, *ast.File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return nil, nil, fmt.Errorf("mutation: %w", err)
	}
	return fset, f, nil
}

// Files lists dir's Go files that are mutated: not tests, not the ones
// excluded (base names).
func Files(dir string, exclude []string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		b := filepath.Base(m)
		if strings.HasSuffix(b, "_test.go") || contains(exclude, b) {
			continue
		}
		out = append(out, m)
	}
	sort.Strings(out)
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// sites walks f and returns every mutation site, in source order.
func sites(fset *token.FileSet, f *ast.File) []site {
	w := &walker{fset: fset}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			w.fn = funcName(d)
			if d.Body != nil {
				w.earlyReturn(d.Type, d.Body)
				w.block(d.Body)
			}
		case *ast.GenDecl:
			w.fn = "package"
			if d.Tok == token.IMPORT {
				continue
			}
			ast.Inspect(d, w.expr)
		}
	}
	sort.SliceStable(w.out, func(i, j int) bool { return w.out[i].pos < w.out[j].pos })
	return w.out
}

func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + d.Name.Name
	}
	return d.Name.Name
}

type walker struct {
	fset *token.FileSet
	fn   string
	out  []site
}

func (w *walker) add(op string, pos token.Pos, change string, apply func()) {
	w.out = append(w.out, site{op: op, fn: w.fn, pos: pos, change: change, apply: apply})
}

func (w *walker) text(n ast.Node) string {
	var buf bytes.Buffer
	_ = format.Node(&buf, w.fset, n)
	s := strings.Join(strings.Fields(buf.String()), " ")
	if len(s) > 70 {
		s = s[:67] + "..."
	}
	return s
}

// block visits the statements of b: each may be removed, and its
// expressions and nested blocks are visited.
func (w *walker) block(b *ast.BlockStmt) { w.stmts(&b.List) }

func (w *walker) stmts(list *[]ast.Stmt) {
	for i := range *list {
		st := (*list)[i]
		if removable(st) {
			i := i
			w.add(OpRemoveStmt, st.Pos(), w.text(st)+" -> (removed)", func() { (*list)[i] = &ast.EmptyStmt{Semicolon: st.Pos(), Implicit: true} })
		}
		w.stmt(st)
	}
}

// removable: a call or an assignment (=, op=, ++/--); not a declaration
// (:= would leave its names undefined), not a deferred clean-up.
func removable(st ast.Stmt) bool {
	switch st := st.(type) {
	case *ast.ExprStmt:
		_, ok := st.X.(*ast.CallExpr)
		return ok
	case *ast.AssignStmt:
		return st.Tok != token.DEFINE
	case *ast.IncDecStmt:
		return true
	}
	return false
}

func (w *walker) stmt(st ast.Stmt) {
	switch st := st.(type) {
	case *ast.IfStmt:
		if st.Init != nil {
			w.stmt(st.Init)
		}
		w.cond(st)
		if !faultOnly(st.Cond) { // its body runs only with a fault switched on
			w.block(st.Body)
		}
		if st.Else != nil {
			w.stmt(st.Else)
		}
	case *ast.BlockStmt:
		w.block(st)
	case *ast.ForStmt:
		if st.Init != nil {
			w.stmt(st.Init)
		}
		if st.Cond != nil {
			ast.Inspect(st.Cond, w.expr)
		}
		w.block(st.Body)
	case *ast.RangeStmt:
		ast.Inspect(st.X, w.expr)
		w.block(st.Body)
	case *ast.SwitchStmt:
		if st.Init != nil {
			w.stmt(st.Init)
		}
		if st.Tag != nil {
			ast.Inspect(st.Tag, w.expr)
		}
		for _, c := range st.Body.List {
			cc := c.(*ast.CaseClause)
			for _, e := range cc.List {
				ast.Inspect(e, w.expr)
			}
			w.stmts(&cc.Body)
		}
	case *ast.TypeSwitchStmt:
		for _, c := range st.Body.List {
			w.stmts(&c.(*ast.CaseClause).Body)
		}
	case *ast.SelectStmt:
		for _, c := range st.Body.List {
			w.stmts(&c.(*ast.CommClause).Body)
		}
	case *ast.DeferStmt, *ast.GoStmt:
		// Closures inside are visited; the call itself is left alone.
		ast.Inspect(st, w.funcLits)
	default:
		ast.Inspect(st, w.expr)
	}
}

// funcLits visits the bodies of function literals only.
func (w *walker) funcLits(n ast.Node) bool {
	if fl, ok := n.(*ast.FuncLit); ok {
		w.earlyReturn(fl.Type, fl.Body)
		w.block(fl.Body)
		return false
	}
	return true
}

// cond adds the mutations of an if statement's condition.
func (w *walker) cond(st *ast.IfStmt) {
	c := st.Cond
	if faultOnly(c) || isFaultCall(c) {
		return // a fault switch: the catalogue's business, not a regression
	}
	orig := w.text(c)
	w.add(OpNegate, c.Pos(), "if "+orig+" -> if !("+orig+")", func() { st.Cond = negate(c) })
	w.add(OpCondTrue, c.Pos(), "if "+orig+" -> if true", func() { st.Cond = ast.NewIdent("true") })
	w.add(OpCondFalse, c.Pos(), "if "+orig+" -> if false", func() { st.Cond = ast.NewIdent("false") })
	// Sub-expressions; a whole condition's == / != flip is its negation.
	if b, ok := c.(*ast.BinaryExpr); ok && (b.Op == token.EQL || b.Op == token.NEQ) {
		ast.Inspect(b.X, w.expr)
		ast.Inspect(b.Y, w.expr)
		return
	}
	ast.Inspect(c, w.expr)
}

func negate(c ast.Expr) ast.Expr {
	if u, ok := c.(*ast.UnaryExpr); ok && u.Op == token.NOT {
		return u.X
	}
	return &ast.UnaryExpr{Op: token.NOT, X: &ast.ParenExpr{X: c}}
}

// expr is an ast.Inspect visitor adding the expression-level mutations.
func (w *walker) expr(n ast.Node) bool {
	switch e := n.(type) {
	case *ast.FuncLit:
		return w.funcLits(e)
	case *ast.BinaryExpr:
		w.binary(e)
	case *ast.BasicLit:
		if e.Kind == token.INT {
			v, err := strconv.ParseInt(strings.ReplaceAll(e.Value, "_", ""), 0, 64)
			if err == nil {
				nv := strconv.FormatInt(v+1, 10)
				old := e.Value
				w.add(OpConst, e.Pos(), old+" -> "+nv, func() { e.Value = nv })
			}
		}
	case *ast.KeyValueExpr:
		if lit, ok := e.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING && lit.Value != `""` && lit.Value != "``" {
			old := lit.Value
			w.add(OpStrEmpty, lit.Pos(), w.text(e)+` -> `+w.text(e.Key)+`: ""`, func() { lit.Value = `""`; _ = old })
		}
	case *ast.CallExpr:
		if isFaultCall(e) {
			return false
		}
		if len(e.Args) >= 2 && e.Ellipsis == token.NoPos {
			a, b := e.Args[0], e.Args[1]
			if w.text(a) != w.text(b) {
				w.add(OpSwapArgs, e.Lparen, w.text(e)+" -> arguments 1 and 2 swapped", func() { e.Args[0], e.Args[1] = b, a })
			}
		}
	}
	return true
}

func (w *walker) binary(e *ast.BinaryExpr) {
	if faultOnly(e) {
		return
	}
	old := e.Op
	set := func(op token.Token) func() { return func() { e.Op = op } }
	switch e.Op {
	case token.LAND, token.LOR:
		other := token.LOR
		if e.Op == token.LOR {
			other = token.LAND
		}
		w.add(OpAndOr, e.OpPos, fmt.Sprintf("%s -> %s", old, other), set(other))
		// Dropping a fault switch's operand is equivalent with faults off.
		if !isFaultExpr(e.X) && !isFaultExpr(e.Y) {
			x, y := e.X, e.Y
			w.add(OpDropLeft, e.Pos(), w.text(e)+" -> "+w.text(y), func() { replaceBinary(e, y) })
			w.add(OpDropRight, e.Pos(), w.text(e)+" -> "+w.text(x), func() { replaceBinary(e, x) })
		}
	case token.LSS, token.LEQ, token.GTR, token.GEQ:
		shift := map[token.Token]token.Token{token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR}[e.Op]
		w.add(OpBoundary, e.OpPos, fmt.Sprintf("%s %s %s -> %s", w.text(e.X), old, w.text(e.Y), shift), set(shift))
	case token.EQL, token.NEQ:
		other := token.NEQ
		if e.Op == token.NEQ {
			other = token.EQL
		}
		w.add(OpRelFlip, e.OpPos, fmt.Sprintf("%s %s %s -> %s", w.text(e.X), old, w.text(e.Y), other), set(other))
	case token.ADD, token.SUB:
		if isString(e.X) || isString(e.Y) {
			return // string concatenation
		}
		other := token.SUB
		if e.Op == token.SUB {
			other = token.ADD
		}
		w.add(OpArith, e.OpPos, fmt.Sprintf("%s %s %s -> %s", w.text(e.X), old, w.text(e.Y), other), set(other))
	case token.MUL:
		w.add(OpArith, e.OpPos, fmt.Sprintf("%s * %s -> /", w.text(e.X), w.text(e.Y)), set(token.QUO))
	}
}

// replaceBinary turns e into the operand kept: (x) && (y) -> (x), written
// as x || false / x && true would not read as a regression, so the node
// becomes a parenthesised copy of the operand.
func replaceBinary(e *ast.BinaryExpr, keep ast.Expr) {
	e.X = &ast.ParenExpr{X: keep}
	if e.Op == token.LAND {
		e.Y = ast.NewIdent("true")
	} else {
		e.Y = ast.NewIdent("false")
	}
}

func isString(e ast.Expr) bool {
	lit, ok := e.(*ast.BasicLit)
	return ok && lit.Kind == token.STRING
}

// earlyReturn adds "return before anything" for a function whose results
// have obvious zero values (none, error, bool, string, numbers) or names.
func (w *walker) earlyReturn(ft *ast.FuncType, body *ast.BlockStmt) {
	if len(body.List) == 0 {
		return
	}
	ret := &ast.ReturnStmt{Return: body.Lbrace + 1}
	if ft.Results != nil {
		for _, field := range ft.Results.List {
			if len(field.Names) > 0 {
				ret.Results = nil
				goto add
			}
			zero := zeroOf(field.Type)
			if zero == nil {
				return
			}
			ret.Results = append(ret.Results, zero)
		}
	}
add:
	w.add(OpEarlyReturn, body.Lbrace, w.text(ret)+" before the body", func() {
		body.List = append([]ast.Stmt{ret}, body.List...)
	})
}

func zeroOf(t ast.Expr) ast.Expr {
	id, ok := t.(*ast.Ident)
	if !ok {
		if _, ok := t.(*ast.StarExpr); ok {
			return ast.NewIdent("nil")
		}
		return nil
	}
	switch id.Name {
	case "error":
		return ast.NewIdent("nil")
	case "bool":
		return ast.NewIdent("false")
	case "string":
		return &ast.BasicLit{Kind: token.STRING, Value: `""`}
	case "int", "int64", "int32", "float64", "uint64":
		return &ast.BasicLit{Kind: token.INT, Value: "0"}
	}
	return nil
}

// isFaultCall: s.fault(...) or x.Faults.On...(...): a fault switch.
func isFaultCall(e ast.Expr) bool {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if sel.Sel.Name == "fault" {
		return true
	}
	if inner, ok := sel.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "faults" {
		return true
	}
	if id, ok := sel.X.(*ast.Ident); ok && id.Name == "faults" {
		return true
	}
	return false
}

// isFaultExpr: a fault call, negated or not.
func isFaultExpr(e ast.Expr) bool {
	if p, ok := e.(*ast.ParenExpr); ok {
		return isFaultExpr(p.X)
	}
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.NOT {
		return isFaultExpr(u.X)
	}
	return isFaultCall(e)
}

// faultOnly: true only while a fault is on (a fault call, or && with one).
func faultOnly(e ast.Expr) bool {
	if p, ok := e.(*ast.ParenExpr); ok {
		return faultOnly(p.X)
	}
	if isFaultCall(e) {
		return true
	}
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op == token.LAND {
		return faultOnly(b.X) || faultOnly(b.Y)
	}
	return false
}
