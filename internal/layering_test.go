// Package internal_test holds checks that span packages.
package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayering keeps the architecture honest: the domain imports only the
// standard library, and the representation packages know nothing of HTTP
// handling, stores or the domain's neighbours.
func TestLayering(t *testing.T) {
	const mod = "github.com/checkpointd/checkpointd/"
	for _, tt := range []struct {
		dir       string
		forbidden []string // import path prefixes
		stdOnly   bool
	}{
		{"backup", nil, true},
		// Every package takes its time from the clock, so it is a leaf.
		{"clock", nil, true},
		{"httpapi/openapi", nil, true},
		{"httpapi/wire", []string{"net/http", mod + "internal/store"}, false},
		{"httpapi/atlas", []string{"net/http", mod + "internal/store", mod + "internal/httpapi\""}, false},
		{"httpapi/cloudmanager", []string{"net/http", mod + "internal/store", mod + "internal/httpapi\""}, false},
		{"store/codec", []string{"net/http", "database/sql", mod + "internal/httpapi"}, false},
		// The client speaks to servers over HTTP only, so it works against
		// any of them: nothing of the server side.
		{"client", []string{mod + "internal/store", mod + "internal/httpapi", mod + "internal/auth", mod + "internal/engine", "database/sql"}, false},
		{"httpapi", []string{mod + "internal/store/", "database/sql", mod + "internal/web"}, false},
		// An agent runs next to a cluster, away from the server: it
		// reaches the server over HTTP only, like the client.
		{"agent", []string{mod + "internal/store", mod + "internal/httpapi", mod + "internal/auth", "database/sql"}, false},
		{"engine/mongodb", []string{"net/http", mod + "internal/store", mod + "internal/httpapi", "database/sql"}, false},
		// Authentication decides who calls; answering over HTTP is the
		// API's, which recognises auth's refusals by their methods.
		{"auth", []string{mod + "internal/httpapi"}, false},
		// The web view reads the API over HTTP, from the browser: its
		// server side is files and the standard library.
		{"web", nil, true},
	} {
		files, _ := filepath.Glob(filepath.Join(tt.dir, "*.go"))
		if len(files) == 0 {
			t.Errorf("%s: no files", tt.dir)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if tt.stdOnly && strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
					t.Errorf("%s imports %s; the domain may use only the standard library", f, p)
				}
				for _, bad := range tt.forbidden {
					if strings.HasPrefix(p+"\"", bad) || strings.HasPrefix(p, bad) && !strings.HasSuffix(bad, "\"") {
						t.Errorf("%s imports %s, which its layer must not", f, p)
					}
				}
			}
		}
	}
}
