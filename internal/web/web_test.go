package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/web"
)

// TestHandlerServesEveryFile: each file in static/ is served under /ui/ with
// its media type and the page's headers, and nothing else is.
func TestHandlerServesEveryFile(t *testing.T) {
	h := web.Handler()
	types := map[string]string{
		"index.html": "text/html; charset=utf-8",
		"app.css":    "text/css; charset=utf-8",
		"app.js":     "text/javascript; charset=utf-8",
		"api.js":     "text/javascript; charset=utf-8",
		"chart.js":   "text/javascript; charset=utf-8",
		"icon.svg":   "image/svg+xml",
	}
	entries, err := os.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := types[e.Name()]; !ok {
			t.Errorf("static/%s is not in this test's list", e.Name())
		}
	}
	for name, ct := range types {
		want, err := fs.ReadFile(os.DirFS("static"), name)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", web.Prefix+name, nil))
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(body) != string(want) || res.Header.Get("Content-Type") != ct {
			t.Errorf("%s: %d %q, %d bytes; want 200 %q, %d bytes", name, res.StatusCode, res.Header.Get("Content-Type"), len(body), ct, len(want))
		}
		if res.Header.Get("Content-Security-Policy") != web.ContentSecurityPolicy || res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", name, res.Header)
		}
	}
	for _, path := range []string{"/ui/nothing", "/ui/static/app.js", "/other/app.js"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", web.Prefix, nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "<!doctype html>") {
		t.Errorf("%s: %d %.40q, want the page", web.Prefix, rec.Code, rec.Body.String())
	}
}

// TestPageNeedsNoInlineCode: the policy forbids inline script and style,
// so the page must have none, and it must load nothing from elsewhere.
func TestPageNeedsNoInlineCode(t *testing.T) {
	page, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`<style\b`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`(?:src|href)="(?:https?:)?//`),
	} {
		if m := bad.Find(page); m != nil {
			t.Errorf("index.html has %q, which the Content-Security-Policy forbids or which needs the network", m)
		}
	}
	for _, tag := range regexp.MustCompile(`<script\b[^>]*>`).FindAll(page, -1) {
		if !strings.Contains(string(tag), ` src="`) {
			t.Errorf("index.html has an inline script: %s", tag)
		}
	}
	for _, name := range []string{"app.js", "api.js", "chart.js", "app.css"} {
		b, err := os.ReadFile("static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"innerHTML", "http://", "https://", "@import", "eval("} {
			// The SVG namespace is a name, not a location.
			s := strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "")
			if strings.Contains(s, bad) {
				t.Errorf("%s uses %q", name, bad)
			}
		}
	}
}
