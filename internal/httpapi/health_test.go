package httpapi_test

import (
	"testing"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestHealth: /healthz always answers; /readyz follows the store and needs
// no credentials.
func TestHealth(t *testing.T) {
	f := mustServe(t, httpapi.Config{Auth: headerAuth{}})
	for _, path := range []string{"/healthz", "/readyz"} {
		res := f.get(t, path)
		if res.status != 200 || string(res.body) != `{"status":"ok"}` || res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %s %v", path, res.status, res.body, res.header)
		}
		if res := f.do(t, "POST", path, nil); res.status != 405 {
			t.Errorf("POST %s: %d", path, res.status)
		}
	}
	f.db.Close()
	if res := f.get(t, "/healthz"); res.status != 200 {
		t.Errorf("/healthz with the store down: %d", res.status)
	}
	res := f.get(t, "/readyz")
	want := `{"detail":"The store is not ready.","error":503,"errorCode":"SERVICE_UNAVAILABLE","parameters":[],"reason":"Service Unavailable"}`
	if res.status != 503 || string(res.body) != want {
		t.Errorf("/readyz with the store down: %d %s", res.status, res.body)
	}
}
