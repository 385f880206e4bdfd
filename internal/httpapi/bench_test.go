package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the handler, not a recorder's buffering.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// benchHandler runs h on req b.N times and reports bytes per response.
func benchHandler(b *testing.B, h http.Handler, req *http.Request) {
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	if w.status != 0 && w.status != 200 {
		b.Fatalf("status %d", w.status)
	}
	b.SetBytes(int64(w.n))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
	}
}

// ceiling serves body as-is: the cost of net/http's handler path with
// precomputed bytes, the bound the API is compared with.
func ceiling(b *testing.B, h http.Handler, req *http.Request) http.Handler {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, hdr := rec.Body.Bytes(), rec.Header().Clone()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hdr {
			w.Header()[k] = v
		}
		_, _ = w.Write(body)
	})
}

// BenchmarkGetOne measures getLegacyBackupCheckpoint on SQLite, next to a
// handler writing the same precomputed bytes.
func BenchmarkGetOne(b *testing.B) {
	f := mustServe(b, httpapi.Config{})
	api := httpapi.New(httpapi.Config{}, f.db)
	req := httptest.NewRequest(http.MethodGet, v2Cluster+"/backupCheckpoints/"+f.ds.Sample["Cluster0"].Hex(), nil)
	req.Header.Set("Accept", v2Accept)
	b.Run("api", func(b *testing.B) { benchHandler(b, api, req) })
	b.Run("ceiling", func(b *testing.B) { benchHandler(b, ceiling(b, api, req), req) })
}

// BenchmarkList100 measures a page of 100 checkpoints of a 3-shard cluster.
func BenchmarkList100(b *testing.B) {
	f := mustServe(b, httpapi.Config{})
	api := httpapi.New(httpapi.Config{}, f.db)
	req := httptest.NewRequest(http.MethodGet, v2Cluster+"/backupCheckpoints?itemsPerPage=100&pageNum=1", nil)
	req.Header.Set("Accept", v2Accept)
	b.Run("api", func(b *testing.B) { benchHandler(b, api, req) })
	b.Run("ceiling", func(b *testing.B) { benchHandler(b, ceiling(b, api, req), req) })
	preq := httptest.NewRequest(http.MethodGet, v2Cluster+"/backupCheckpoints?itemsPerPage=100&pageNum=1&pretty=true", nil)
	preq.Header.Set("Accept", v2Accept)
	b.Run("api-pretty", func(b *testing.B) { benchHandler(b, api, preq) })
}
