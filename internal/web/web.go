// Package web is the server's web view: a page that walks projects and
// clusters and draws a cluster's checkpoints on a timeline, with the slots
// that left none and why, the exposure against the recovery point
// objective, and a table of the newest with each one's restore plan and
// restore jobs. Its files are embedded in the binary; the page reads
// everything it shows from the server's own Atlas v2 API (the restore
// plans, slot records and objective report from its administration API,
// the restore jobs from the Cloud Manager API) with fetch(), so it needs
// no endpoint of its own and sees exactly what the API key may read.
//
// Handler serves the files only. httpapi mounts it under /ui/ behind the
// API's authentication (see httpapi.Config.UI).
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed static
var static embed.FS

// Prefix is the path the web view is served under.
const Prefix = "/ui/"

// ContentSecurityPolicy allows the page nothing but its own files and its
// own origin's API: no inline script or style, no other origin, no frames,
// no forms.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes maps the extensions of the embedded files to their media
// types, spelled out rather than taken from the system's MIME table, which
// differs between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// file is one embedded file, ready to serve.
type file struct {
	body        []byte
	contentType string
	etag        string
	length      string
}

// Handler returns the handler of the web view's files, for requests whose
// path starts with Prefix; Prefix itself is the page. Every response is
// marked to be revalidated (Cache-Control: no-cache, with an ETag), so a
// new binary's page is picked up at once. A path it has no file for gets
// a plain 404, which httpapi replaces with the API's error body.
func Handler() http.Handler {
	files := map[string]file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return nil // not served: only the types above are
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		files[strings.TrimPrefix(p, "static/")] = file{
			body:        body,
			contentType: ct,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			length:      strconv.Itoa(len(body)),
		}
		return nil
	})
	if err != nil {
		panic("web: reading the embedded files: " + err.Error()) // they are compiled in
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "" {
			name = "index.html"
		}
		f, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("ETag", f.etag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, f.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", f.length)
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(f.body)
		}
	})
}

// etagMatch reports whether an If-None-Match value names etag (or is *).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
