package httpapi

import (
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
	p, err := s.store.Checkpoints(rq.Context(), ref, page)
	if err != nil {
		return result{}, err
	}
	coll := rq.surface.checkpointsPath(ref)
	return rq.listOf(page, p.Total, func(b []byte) []byte {
		return s.pageBodies.append(b, rq.surface, rq.base, coll, &p)
	}), nil
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
