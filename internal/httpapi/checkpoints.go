package httpapi

import (
	"github.com/checkpointd/checkpointd/internal/backup"
)

// listCheckpoints returns one page of a cluster's checkpoints, oldest first.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backupCheckpoints
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}/backupCheckpoints
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters/{CLUSTER-ID}/checkpoints
func listCheckpoints(s *Server, rq *request) ([]byte, error) {
	ref, err := rq.surface.clusterRef(rq.Request)
	if err != nil {
		return nil, err
	}
	page, err := rq.query.page(s.cfg.Paging)
	if err != nil {
		return nil, err
	}
	p, err := s.store.Checkpoints(rq.Context(), ref, page)
	if err != nil {
		return nil, err
	}
	coll := rq.surface.checkpointsPath(ref)
	return appendListOf(rq.buf[:0], rq, page, p.Total, func(b []byte) []byte {
		return s.pageBodies.append(b, rq.surface, rq.base, coll, &p)
	}), nil
}

// getCheckpoint returns one checkpoint.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backupCheckpoints/{checkpointId}
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}/backupCheckpoints/{CHECKPOINT-ID}
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters/{CLUSTER-ID}/checkpoints/{CHECKPOINT-ID}
func getCheckpoint(s *Server, rq *request) ([]byte, error) {
	ref, err := rq.surface.clusterRef(rq.Request)
	if err != nil {
		return nil, err
	}
	raw := rq.PathValue("checkpointId")
	id, ok := backup.ParseObjectID(raw)
	if !ok {
		return nil, backup.ErrInvalidCheckpointID(raw)
	}
	cp, err := s.store.Checkpoint(rq.Context(), ref, id)
	if err != nil {
		return nil, err
	}
	coll := rq.surface.checkpointsPath(ref)
	return rq.single(func(b []byte) []byte { return rq.surface.appendCheckpoint(b, rq.base, coll, &cp) }), nil
}
