package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/web"
)

// TestUI: the web view goes through the API's pipeline: the Digest
// challenge first, GET and HEAD only, the API's error bodies, and its own
// headers on the files.
func TestUI(t *testing.T) {
	f := mustServe(t, httpapi.Config{Auth: headerAuth{}, UI: web.Handler()})
	const challenge = "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}"
	for _, tt := range []struct {
		name, method, path string
		key                string // X-Test-Key of headerAuth
		status             int
		contentType        string
		body               string // exact, if set
		bodyHas            string
		location           string
	}{
		{name: "page", method: "GET", path: "/ui/", key: "good", status: 200, contentType: "text/html; charset=utf-8", bodyHas: `<script type="module" src="app.js"></script>`},
		{name: "script", method: "GET", path: "/ui/app.js", key: "good", status: 200, contentType: "text/javascript; charset=utf-8", bodyHas: "hashchange"},
		{name: "chart", method: "GET", path: "/ui/chart.js", key: "good", status: 200, contentType: "text/javascript; charset=utf-8", bodyHas: "inferInterval"},
		{name: "style", method: "GET", path: "/ui/app.css", key: "good", status: 200, contentType: "text/css; charset=utf-8", bodyHas: ".gap-band"},
		{name: "icon", method: "GET", path: "/ui/icon.svg", key: "good", status: 200, contentType: "image/svg+xml", bodyHas: "<svg"},
		{name: "head", method: "HEAD", path: "/ui/app.js", key: "good", status: 200, contentType: "text/javascript; charset=utf-8", body: ""},
		{name: "no credentials", method: "GET", path: "/ui/", status: 401, contentType: "application/json", body: challenge},
		{name: "no credentials, a file", method: "GET", path: "/ui/app.js", status: 401, contentType: "application/json", body: challenge},
		{name: "no credentials, unknown file", method: "GET", path: "/ui/nothing.js", status: 401, contentType: "application/json", body: challenge},
		{name: "no credentials, wrong method", method: "POST", path: "/ui/", status: 401, contentType: "application/json", body: challenge},
		{name: "access list", method: "GET", path: "/ui/", key: "far", status: 403, contentType: "application/json",
			body: `{"detail":"IP address 192.0.2.7 is not allowed to access this resource.","error":403,"errorCode":"IP_ADDRESS_NOT_ON_ACCESS_LIST","parameters":["192.0.2.7"],"reason":"Forbidden"}`},
		{name: "POST", method: "POST", path: "/ui/", key: "good", status: 405, contentType: "application/json",
			body: `{"detail":"Method POST is not allowed for resource /ui/.","error":405,"errorCode":"METHOD_NOT_ALLOWED","parameters":["POST","/ui/"],"reason":"Method Not Allowed"}`},
		{name: "DELETE a file", method: "DELETE", path: "/ui/app.js", key: "good", status: 405, contentType: "application/json",
			body: `{"detail":"Method DELETE is not allowed for resource /ui/app.js.","error":405,"errorCode":"METHOD_NOT_ALLOWED","parameters":["DELETE","/ui/app.js"],"reason":"Method Not Allowed"}`},
		{name: "unknown file", method: "GET", path: "/ui/nothing.js", key: "good", status: 404, contentType: "application/json",
			body: `{"detail":"Cannot find resource /ui/nothing.js.","error":404,"errorCode":"RESOURCE_NOT_FOUND","parameters":["/ui/nothing.js"],"reason":"Not Found"}`},
		{name: "unknown directory", method: "GET", path: "/ui/static/index.html", key: "good", status: 404, contentType: "application/json",
			body: `{"detail":"Cannot find resource /ui/static/index.html.","error":404,"errorCode":"RESOURCE_NOT_FOUND","parameters":["/ui/static/index.html"],"reason":"Not Found"}`},
		{name: "unknown file, pretty", method: "GET", path: "/ui/x?pretty=true", key: "good", status: 404, contentType: "application/json", bodyHas: "\"errorCode\" : \"RESOURCE_NOT_FOUND\""},
		{name: "dot segments", method: "GET", path: "/ui/../api", key: "good", status: 404, contentType: "application/json", bodyHas: "RESOURCE_NOT_FOUND"},
		{name: "too long", method: "GET", path: "/ui/" + strings.Repeat("a", 9000), key: "good", status: 414, contentType: "application/json", bodyHas: "REQUEST_TOO_LARGE"},
		{name: "redirect, no credentials", method: "GET", path: "/ui", status: 401, contentType: "application/json", body: challenge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.key != "" {
				headers = []string{"X-Test-Key", tt.key}
			}
			res := f.do(t, tt.method, tt.path, nil, headers...)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d; body %.300s", res.status, tt.status, res.body)
			}
			if tt.contentType != "" && res.header.Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type %q, want %q", res.header.Get("Content-Type"), tt.contentType)
			}
			if tt.body != "" || tt.bodyHas == "" {
				if string(res.body) != tt.body {
					t.Errorf("body %q, want %q", res.body, tt.body)
				}
			}
			if tt.bodyHas != "" && !strings.Contains(string(res.body), tt.bodyHas) {
				t.Errorf("body %.300q lacks %q", res.body, tt.bodyHas)
			}
			if got := res.header.Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			h := res.header
			switch {
			case tt.status == 200:
				for k, v := range map[string]string{
					"Cache-Control":           "no-cache",
					"X-Content-Type-Options":  "nosniff",
					"Content-Security-Policy": web.ContentSecurityPolicy,
					"X-Frame-Options":         "DENY",
				} {
					if h.Get(k) != v {
						t.Errorf("%s %q, want %q", k, h.Get(k), v)
					}
				}
				if h.Get("ETag") == "" || h.Get("X-Request-Id") == "" {
					t.Errorf("no ETag or X-Request-Id: %v", h)
				}
			case tt.status == 401:
				if len(h.Values("Www-Authenticate")) != 1 || h.Get("Content-Security-Policy") != "" {
					t.Errorf("not the API's challenge: %v", h)
				}
			case tt.status >= 400:
				// The API's error, not the file handler's: its code header,
				// none of the file's headers.
				if h.Get("X-Error-Code") == "" || h.Get("Content-Security-Policy") != "" || h.Get("ETag") != "" || h.Get("X-Request-Id") == "" {
					t.Errorf("headers %v", h)
				}
			}
			if tt.status == 405 && h.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", h.Get("Allow"))
			}
		})
	}

	t.Run("redirect", func(t *testing.T) {
		req, err := http.NewRequest("GET", f.srv.URL+"/ui", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Test-Key", "good")
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := res.Location()
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "ui/" || err != nil || loc.Path != "/ui/" {
			t.Errorf("/ui: %d, Location %q (%v, %v)", res.StatusCode, res.Header.Get("Location"), loc, err)
		}
	})

	t.Run("HEAD length", func(t *testing.T) {
		get := f.do(t, "GET", "/ui/app.js", nil, "X-Test-Key", "good")
		head := f.do(t, "HEAD", "/ui/app.js", nil, "X-Test-Key", "good")
		if n, _ := strconv.Atoi(head.header.Get("Content-Length")); n != len(get.body) || n == 0 {
			t.Errorf("HEAD Content-Length %q, GET body %d bytes", head.header.Get("Content-Length"), len(get.body))
		}
	})

	t.Run("revalidation", func(t *testing.T) {
		first := f.do(t, "GET", "/ui/", nil, "X-Test-Key", "good")
		etag := first.header.Get("ETag")
		res := f.do(t, "GET", "/ui/", nil, "X-Test-Key", "good", "If-None-Match", etag)
		if res.status != http.StatusNotModified || len(res.body) != 0 || res.header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d %q %v", etag, res.status, res.body, res.header)
		}
		res = f.do(t, "GET", "/ui/", nil, "X-Test-Key", "good", "If-None-Match", `"other"`)
		if res.status != http.StatusOK || len(res.body) == 0 {
			t.Errorf("If-None-Match of another version: %d", res.status)
		}
	})
}

// TestUIUnrouted: without Config.UI, /ui/ is an unknown path like any
// other.
func TestUIUnrouted(t *testing.T) {
	f := mustServe(t, httpapi.Config{Auth: headerAuth{}})
	for _, path := range []string{"/ui/", "/ui"} {
		res := f.get(t, path, "X-Test-Key", "good")
		if res.status != 404 || !strings.Contains(string(res.body), `"errorCode":"RESOURCE_NOT_FOUND"`) {
			t.Errorf("%s: %d %s", path, res.status, res.body)
		}
	}
}
