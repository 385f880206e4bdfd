package httpapi_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestRouteTable lists the route table of a server with every optional
// part and holds its shape: each pattern's rows share a surface and an
// authentication requirement, no method is routed twice, every pattern
// has one answer for the methods it lacks (a 405 row, or a row for any
// method), and the labels name operations. Then it asks the mux for
// every pattern, which must match only the table's: a route registered
// any other way fails TestRouteRegistration.
func TestRouteTable(t *testing.T) {
	srv := httpapi.New(httpapi.Config{OAuth: stubOAuth{}, Admin: stubAdmin{}, ClusterAdmin: stubAdmin{}, UI: http.NotFoundHandler()}, nil)
	type set struct {
		surface   string
		auth      bool
		methods   map[string]bool
		fallbacks int
	}
	sets := map[string]*set{}
	var order []string
	for _, rt := range srv.Routes() {
		t.Logf("%-6s %-90s %-17s %-28s auth=%-5v %s", rt.Method, rt.Pattern, rt.Surface, rt.Operation, rt.Auth, rt.Label)
		s := sets[rt.Pattern]
		if s == nil {
			s = &set{surface: rt.Surface, auth: rt.Auth, methods: map[string]bool{}}
			sets[rt.Pattern] = s
			order = append(order, rt.Pattern)
		}
		if s.surface != rt.Surface || s.auth != rt.Auth {
			t.Errorf("%s %s: surface %s auth %v, but the pattern's first row has %s %v", rt.Method, rt.Pattern, rt.Surface, rt.Auth, s.surface, s.auth)
		}
		switch {
		case rt.Operation == "" || rt.Method == "":
			s.fallbacks++
		case s.methods[rt.Method]:
			t.Errorf("%s %s is routed twice", rt.Method, rt.Pattern)
		default:
			s.methods[rt.Method] = true
		}
		want := rt.Surface + "." + rt.Operation
		switch {
		case rt.Operation == "":
			want = rt.Surface // a wrong method: no operation
		case rt.Surface == "probe" || rt.Surface == "unrouted":
			want = rt.Operation
		}
		if rt.Label != want {
			t.Errorf("%s %s: label %q, want %q", rt.Method, rt.Pattern, rt.Label, want)
		}
	}
	for _, p := range order {
		if n := sets[p].fallbacks; n != 1 {
			t.Errorf("%s: %d answers for the methods it has no row for, want 1", p, n)
		}
		if got := srv.MuxPattern(httptest.NewRequest(http.MethodGet, sample(p), nil)); got != p {
			t.Errorf("a request to %s is matched by the mux with %q, want %q", sample(p), got, p)
		}
	}
	if sets["/"] == nil || sets["/"].surface != "unrouted" {
		t.Error(`no catch-all row for "/"`)
	}
	if len(order) < 25 {
		t.Errorf("only %d patterns", len(order))
	}
}

// sample is a path that pattern matches: each wildcard filled.
func sample(pattern string) string {
	return regexp.MustCompile(`\{[^}]*\}`).ReplaceAllStringFunc(pattern, func(w string) string { return "x" + strings.Trim(w, "{}.") })
}

// TestRouteRegistration reads the package's source: the server makes one
// mux, only routes (from the route table) registers patterns on it, only
// ServeHTTP dispatches to it, and nothing registers on net/http's default
// mux. A route registered any other way fails here.
func TestRouteRegistration(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var muxUses, newMuxes, defaultMux []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			where := fmt.Sprintf("%s in %s", f, fn.Name.Name)
			ast.Inspect(fn, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, _ := sel.X.(*ast.Ident)
				switch {
				case sel.Sel.Name == "mux":
					muxUses = append(muxUses, where)
				case x != nil && x.Name == "http" && sel.Sel.Name == "NewServeMux":
					newMuxes = append(newMuxes, where)
				case x != nil && x.Name == "http" && (sel.Sel.Name == "Handle" || sel.Sel.Name == "HandleFunc"):
					defaultMux = append(defaultMux, where)
				}
				return true
			})
		}
	}
	want := []string{"routes.go in routes", "server.go in ServeHTTP"}
	slices.Sort(muxUses)
	if !slices.Equal(slices.Compact(muxUses), want) {
		t.Errorf("the mux is used in %q; want only %q", muxUses, want)
	}
	if len(newMuxes) != 1 || newMuxes[0] != "server.go in New" {
		t.Errorf("muxes are made in %q; want one, in New", newMuxes)
	}
	if len(defaultMux) != 0 {
		t.Errorf("handlers registered on net/http's default mux in %q", defaultMux)
	}
}

// TestRequestLogNames: every request's log line names the API and the
// operation of the row that served it, the server's own routes included
// (a probe is not an atlas-v2 request), and no operation for a method the
// path does not have.
func TestRequestLogNames(t *testing.T) {
	var logs syncBuilder
	f := mustServeAdmin(t, httpapi.Config{})
	// Served in this goroutine: the line is logged once ServeHTTP returns.
	srv := httpapi.New(httpapi.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), OAuth: fakeOAuth{}, UI: http.NotFoundHandler(), Admin: f.db, ClusterAdmin: admin.Clusters{Store: f.db}}, f.db)
	for _, tt := range []struct{ method, path, api, op string }{
		{"GET", "/healthz", "probe", "healthz"},
		{"GET", "/readyz", "probe", "readyz"},
		{"POST", "/healthz", "probe", ""},
		{"GET", "/nothing/here", "unrouted", "not_found"},
		{"GET", "/api/atlas/v2/groups//x", "unrouted", "not_found"},
		{"GET", "/api/checkpointd/v1/openapi.yaml", "openapi", "getOpenAPIDocument"},
		{"GET", "/ui", "ui", "uiRedirect"},
		{"GET", "/ui/app.js", "ui", "ui"},
		{"POST", "/api/oauth/token", "oauth", "createToken"},
		{"GET", "/api/oauth/token", "oauth", ""},
		{"GET", "/api/atlas/v1.0/groups/" + groupHex, "atlas-v1.0", "getProject"},
		{"DELETE", "/api/public/v1.0/groups", "cloud-manager", ""},
		{"GET", "/api/checkpointd/v1/groups/" + groupHex + "/clusters", "checkpointd-admin", "adminListClusters"},
		{"PUT", "/api/checkpointd/v1/groups/" + groupHex + "/clusters", "checkpointd-admin", ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			logs.mu.Lock()
			logs.b.Reset()
			logs.mu.Unlock()
			srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.path, strings.NewReader("")))
			var rec struct{ Msg, API, Op, Path string }
			if err := json.Unmarshal([]byte(logs.String()), &rec); err != nil {
				t.Fatalf("%v: %s", err, logs.String())
			}
			if rec.Msg != httpapi.RequestLogMessage || rec.API != tt.api || rec.Op != tt.op {
				t.Errorf("logged api=%q op=%q, want api=%q op=%q", rec.API, rec.Op, tt.api, tt.op)
			}
		})
	}
}

// TestDocumentNotReused: the OpenAPI document is served from the server's
// own copy, never taken as a request's buffer, so requests in between
// (pooled, reusing their buffers) leave it as it was.
func TestDocumentNotReused(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	const doc = "/api/checkpointd/v1/openapi.json"
	want := f.get(t, doc).body
	for range 20 {
		f.get(t, v2Cluster+"/backupCheckpoints?envelope=true&pretty=true", "Accept", v2Accept)
		f.get(t, "/api/atlas/v1.0/groups/"+groupHex+"?envelope=true")
	}
	if got := f.get(t, doc).body; string(got) != string(want) || len(want) < 1000 {
		t.Errorf("the document changed between requests (%d bytes, then %d)", len(want), len(got))
	}
}
