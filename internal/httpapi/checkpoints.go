package httpapi

import (
	"context"
	"iter"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// listCheckpoints returns one page of a cluster's checkpoints, oldest first.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backupCheckpoints
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}/backupCheckpoints
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters/{CLUSTER-ID}/checkpoints
func listCheckpoints(s *Server, rq *request) (result, error) {
	ref, page, err := s.clusterPage(rq)
	if err != nil {
		return result{}, err
	}
	// The page's share of the checkpoints under way (pageWork), held
	// until the response is written (finish).
	if rq.work, err = s.pageWork.acquire(rq.Context(), int64(page.Size)); err != nil {
		return result{}, err
	}
	if b := s.pageWork.buffer(); b != nil {
		rq.spare, rq.buf = rq.buf, b
	}
	coll := rq.surface.checkpointsPath(ref)
	if cs, ok := s.store.(checkpointSeqs); ok {
		p, n, seq, err := cs.CheckpointsSeq(rq.Context(), ref, page)
		if err != nil {
			return result{}, err
		}
		if seq == nil {
			return rq.listOf(page, p.Total, func(b []byte) []byte {
				return s.pageBodies.append(b, rq.surface, rq.base, coll, &p)
			}), nil
		}
		whole := false
		res := rq.listOf(page, p.Total, func(b []byte) []byte {
			b, whole = rq.surface.appendCheckpointsSeq(b, rq.base, coll, n, seq)
			return b
		})
		if whole {
			return res, nil
		}
		// The sequence stopped short: the store found, as it decoded
		// the page, that it could not give all of it (a damaged block).
		// Nothing is on the wire yet; Checkpoints reads the page
		// another way.
		rq.buf = res.body[:0]
	}
	p, err := s.store.Checkpoints(rq.Context(), ref, page)
	if err != nil {
		return result{}, err
	}
	return rq.listOf(page, p.Total, func(b []byte) []byte {
		return s.pageBodies.append(b, rq.surface, rq.base, coll, &p)
	}), nil
}

// checkpointSeqs is a store that can hand a page of checkpoints as a
// sequence the encoder reads once, in order (pages a store read from its
// blocks and not worth its cache, SQLite's and PostgreSQL's): nothing of
// the page is allocated as checkpoint values, which a random walk over a
// large cluster would otherwise allocate, and the collector scan, on
// every request. n is the number of checkpoints; a nil sequence means
// the page is p.Items, as Checkpoints returns it. A sequence that yields
// fewer than n could not give the whole page: what was made of it is
// dropped, and the page is read through Checkpoints. Stores without it
// are read through Checkpoints.
type checkpointSeqs interface {
	CheckpointsSeq(ctx context.Context, ref backup.ClusterRef, page backup.PageRequest) (p backup.Page[backup.Checkpoint], n int, seq iter.Seq[*backup.Checkpoint], err error)
}

// getCheckpoint returns one checkpoint.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backupCheckpoints/{checkpointId}
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}/backupCheckpoints/{CHECKPOINT-ID}
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters/{CLUSTER-ID}/checkpoints/{CHECKPOINT-ID}
func getCheckpoint(s *Server, rq *request) (result, error) {
	ref, id, err := rq.surface.clusterItemRef(rq, "checkpointId", backup.ErrInvalidCheckpointID)
	if err != nil {
		return result{}, err
	}
	cp, err := s.store.Checkpoint(rq.Context(), ref, id)
	if err != nil {
		return result{}, err
	}
	if !rq.envelope { // else the renderer wraps the body in rq.buf
		if body := s.checkpointBodies.kept(rq.surface, rq.base, ref, &cp); body != nil {
			return result{body: body, shared: true}, nil // written as it is kept, not copied first
		}
	}
	return result{body: s.checkpointBodies.append(rq.buf[:0], rq.surface, rq.base, ref, &cp)}, nil
}
