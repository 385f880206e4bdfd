// Package internal_test holds checks that span packages.
package internal_test

import (
	"go/parser"
	"go/token"
	"io/fs"
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
		tree      bool // the rule holds for the packages below dir too
	}{
		{"backup", nil, true, false},
		// Every package takes its time from the clock, so it is a leaf.
		{"clock", nil, true, false},
		{"httpapi/openapi", nil, true, false},
		{"httpapi/wire", []string{"net/http", mod + "internal/store"}, false, false},
		{"httpapi/atlas", []string{"net/http", mod + "internal/store", mod + "internal/httpapi\""}, false, false},
		{"httpapi/cloudmanager", []string{"net/http", mod + "internal/store", mod + "internal/httpapi\""}, false, false},
		{"store/codec", []string{"net/http", "database/sql", mod + "internal/httpapi"}, false, false},
		// The client speaks to servers over HTTP only, so it works against
		// any of them: nothing of the server side.
		{"client", []string{mod + "internal/store", mod + "internal/httpapi", mod + "internal/auth", mod + "internal/engine", "database/sql"}, false, false},
		// The administration API calls the operations of internal/admin
		// through an interface it declares (ClusterAdmin), as the
		// command line does directly: one path, wired in main.
		{"httpapi", []string{mod + "internal/store/", "database/sql", mod + "internal/web", mod + "internal/admin\""}, false, true},
		// An agent runs next to a cluster, away from the server: it
		// reaches the server over HTTP only, like the client.
		{"agent", []string{mod + "internal/store", mod + "internal/httpapi", mod + "internal/auth", "database/sql"}, false, false},
		{"engine/mongodb", []string{"net/http", mod + "internal/store", mod + "internal/httpapi", "database/sql"}, false, false},
		// Authentication decides who calls; answering over HTTP is the
		// API's, which recognises auth's refusals by their methods.
		// Its challenge type and reason names are its own (refusal.go).
		{"auth", []string{mod + "internal/httpapi"}, false, true},
		// The web view reads the API over HTTP, from the browser: its
		// server side is files and the standard library.
		{"web", nil, true, false},
	} {
		files, _ := filepath.Glob(filepath.Join(tt.dir, "*.go"))
		if tt.tree {
			files = goFilesBelow(t, tt.dir)
		}
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

// goFilesBelow lists the .go files of dir and of every directory below it.
func goFilesBelow(t *testing.T, dir string) []string {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
