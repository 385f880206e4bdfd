package httpapi

import (
	"context"
	"iter"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// seqPages is a Store with checkpointSeqs whose sequence yields the
// first yield of the page's checkpoints, and whose Checkpoints returns
// the page; nothing else of it is called.
type seqPages struct {
	Store
	page   []backup.Checkpoint
	yield  int // how many checkpoints the sequence yields
	listed int // calls of Checkpoints
}

func (s *seqPages) Checkpoints(ctx context.Context, ref backup.ClusterRef, page backup.PageRequest) (backup.Page[backup.Checkpoint], error) {
	s.listed++
	return backup.Page[backup.Checkpoint]{Items: s.page, Total: len(s.page)}, nil
}

func (s *seqPages) CheckpointsSeq(ctx context.Context, ref backup.ClusterRef, page backup.PageRequest) (backup.Page[backup.Checkpoint], int, iter.Seq[*backup.Checkpoint], error) {
	seq := func(yield func(*backup.Checkpoint) bool) {
		var cp backup.Checkpoint
		for i := range s.yield {
			cp = s.page[i]
			if !yield(&cp) {
				return
			}
		}
	}
	return backup.Page[backup.Checkpoint]{Total: len(s.page)}, len(s.page), seq, nil
}

// TestCheckpointsSeqShort: a page whose sequence stops short (a store
// that found a damaged block as it walked the page) is answered in
// full, as Checkpoints reads it, with nothing of the short sequence in
// the body; a whole sequence is answered alone.
func TestCheckpointsSeqShort(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 0)
	var page []backup.Checkpoint
	for i := range 5 {
		ts := t0.Add(time.Duration(i) * time.Hour)
		page = append(page, backup.Checkpoint{ID: ids.New(ts), Started: ts.Add(-time.Minute), Timestamp: ts, Restorable: true,
			Parts: []backup.Part{{Type: backup.PartReplicaSet, ReplicaSetName: "rs", TokenDiscovered: true,
				TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: uint32(i + 1)}}}})
	}
	get := func(s Store) string {
		r := httptest.NewRequest(http.MethodGet, heldPagesPath+"5&includeCount=true", nil)
		r.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		w := httptest.NewRecorder()
		New(Config{}, s).ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		return w.Body.String()
	}
	want := get(&seqPages{page: page, yield: len(page)})
	for _, yield := range []int{0, 1, 4} {
		s := &seqPages{page: page, yield: yield}
		if got := get(s); got != want || s.listed != 1 {
			t.Errorf("sequence of %d of 5: read through Checkpoints %d times, body\n%s\nwant\n%s", yield, s.listed, got, want)
		}
	}
	if s := (&seqPages{page: page, yield: len(page)}); get(s) != want || s.listed != 0 {
		t.Errorf("whole sequence: read through Checkpoints %d times", s.listed)
	}
}
