package auth_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// secretName matches the names of values that must only be compared in
// constant time (crypto/subtle or hmac.Equal): Digest responses and HA1s,
// nonce and token MACs and signatures, service account secrets and their
// hashes. It is matched against each word of a name split at case
// changes and underscores, so that "wantMAC" and "ha1" match but
// "machine" and "signed" do not.
var secretName = regexp.MustCompile(`^(secret|secrets|signature|sig|mac|macs|response|ha1|tag|hash|hashes|digest|sum|key|password|private)$`)

// leakyCalls are comparisons that return early at the first differing
// byte.
var leakyCalls = map[string]bool{
	"bytes.Equal": true, "bytes.Compare": true, "bytes.HasPrefix": true,
	"strings.Compare": true, "strings.EqualFold": true, "strings.HasPrefix": true,
	"reflect.DeepEqual": true, "slices.Equal": true,
}

// timingLeaks reports the comparisons in a Go file that look like
// variable-time comparisons of secrets: == or != between two operands at
// least one of which is named like a secret, and calls of leakyCalls with
// such an argument. A comparison with a literal, nil or a constant-like
// operand (a length, an empty string) tells nothing about the secret's
// bytes and is not reported.
func timingLeaks(fset *token.FileSet, f *ast.File) []string {
	var found []string
	report := func(n ast.Node, what string) {
		found = append(found, fset.Position(n.Pos()).String()+": "+what)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if n.Op != token.EQL && n.Op != token.NEQ {
				return true
			}
			if trivialOperand(n.X) || trivialOperand(n.Y) {
				return true
			}
			if secretOperand(n.X) || secretOperand(n.Y) {
				report(n, exprString(n.X)+" "+n.Op.String()+" "+exprString(n.Y))
			}
		case *ast.CallExpr:
			if fn := exprString(n.Fun); leakyCalls[fn] {
				for _, a := range n.Args {
					if secretOperand(a) {
						report(n, fn+"("+exprString(a)+", …)")
						break
					}
				}
			}
		}
		return true
	})
	return found
}

// trivialOperand reports operands whose equality with a secret reveals
// nothing of its bytes: literals, nil, true and false, len(…) and cap(…),
// and an empty composite literal (the zero value). Named constants are
// not exempt: a public one compared with part of a secret goes in the
// test's allowed list, with its reason.
func trivialOperand(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return e.Name == "nil" || e.Name == "true" || e.Name == "false"
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") {
			return true
		}
	case *ast.CompositeLit:
		return len(e.Elts) == 0 // the zero value: "was anything given?"
	case *ast.ParenExpr:
		return trivialOperand(e.X)
	}
	return false
}

// secretOperand reports whether an operand is named like a secret: an
// identifier, a field (its last name), an element or slice of one, or a
// conversion of one.
func secretOperand(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return secretWords(e.Name)
	case *ast.SelectorExpr:
		return secretWords(e.Sel.Name)
	case *ast.IndexExpr:
		return secretOperand(e.X)
	case *ast.SliceExpr:
		return secretOperand(e.X)
	case *ast.StarExpr:
		return secretOperand(e.X)
	case *ast.ParenExpr:
		return secretOperand(e.X)
	case *ast.CallExpr:
		// string(x), []byte(x), hex.EncodeToString(x), x.Sum(nil), …
		if len(e.Args) == 1 && secretOperand(e.Args[0]) {
			return true
		}
		return secretOperand(e.Fun)
	}
	return false
}

var wordStart = regexp.MustCompile(`[A-Z]?[a-z0-9]+|[A-Z0-9]+`)

// secretWords reports whether a name has a word of secretName and no
// word "public" (a key's public half, the Digest username, is no secret).
func secretWords(name string) bool {
	secret := false
	for _, w := range wordStart.FindAllString(strings.ReplaceAll(name, "_", " "), -1) {
		w = strings.ToLower(w)
		if w == "public" {
			return false
		}
		secret = secret || secretName.MatchString(w)
	}
	return secret
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.IndexExpr:
		return exprString(e.X) + "[…]"
	case *ast.SliceExpr:
		return exprString(e.X) + "[…:…]"
	case *ast.StarExpr:
		return "*" + exprString(e.X)
	case *ast.ParenExpr:
		return "(" + exprString(e.X) + ")"
	case *ast.CallExpr:
		return exprString(e.Fun) + "(…)"
	case *ast.BasicLit:
		return e.Value
	}
	return "…"
}

// TestSecretsComparedInConstantTime reads every non-test Go file of
// internal/auth, internal/store and their subpackages and fails on a comparison of a
// secret-like value with == or != or with a comparison function that
// stops at the first difference: those must go through
// crypto/subtle.ConstantTimeCompare or hmac.Equal, so that response time
// does not tell an attacker how many leading bytes of a guessed
// signature, response or secret were right.
//
// allowed lists comparisons that match the names but involve no secret,
// each with the reason.
func TestSecretsComparedInConstantTime(t *testing.T) {
	allowed := map[string]string{
		// The public prefix every secret starts with ("mdb_sa_sk_"), checked
		// before the slow hash to turn away malformed input: it is the same
		// for every secret and tells nothing about one.
		"oauth/ids.go: s[…:…] != ClientSecretPrefix": "the public prefix of every secret",
	}
	used := map[string]bool{}
	fset := token.NewFileSet()
	files := 0
	// internal/auth and its subpackages, and the stores, which keep the
	// HA1s and secret hashes.
	for _, root := range []string{".", "../store"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "storetest" {
				// The stores' conformance suite: test code that compares
				// what a store returns with what it was given.
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			files++
			for _, leak := range timingLeaks(fset, f) {
				_, what, _ := strings.Cut(leak, ": ")
				key := filepath.ToSlash(path) + ": " + what
				if _, ok := allowed[key]; ok {
					used[key] = true
					continue
				}
				t.Errorf("%s: compare secrets with crypto/subtle.ConstantTimeCompare or hmac.Equal", leak)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 30 {
		t.Fatalf("read %d files; the walk missed the packages", files)
	}
	for key := range allowed {
		if !used[key] {
			t.Errorf("allowed %q matches nothing any more: remove it", key)
		}
	}
}

// TestTimingLeaksCheck: the check above finds what it looks for, and
// leaves alone what it must.
func TestTimingLeaksCheck(t *testing.T) {
	const src = `package p

func f() {
	_ = sig == want                      // leak
	_ = string(mac) != got               // leak
	_ = c.Response == expected           // leak
	_ = ha1[:n] == stored                // leak
	_ = bytes.Equal(wantMAC, mac)        // leak
	_ = strings.EqualFold(secret, input) // leak
	_ = s.Hash == other.Hash             // leak

	_ = secret == ""
	_ = len(sig) == 43
	_ = ha1 == (Hashes{})
	_ = key == nil
	_ = machine == signed
	_ = c.Realm == realm
	_ = got.PublicKey != want.PublicKey
	_ = subtle.ConstantTimeCompare(a, b) == 1
	_ = hmac.Equal(mac, want)
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := timingLeaks(fset, f)
	var lines []string
	for _, g := range got {
		lines = append(lines, strings.SplitN(g, ":", 3)[1])
	}
	if want := []string{"4", "5", "6", "7", "8", "9", "10"}; strings.Join(lines, ",") != strings.Join(want, ",") {
		t.Errorf("reported lines %v, want %v:\n%s", lines, want, strings.Join(got, "\n"))
	}
}
