package httpapi

// These are the resources clients read to find their way to checkpoints:
// projects (groups) and their clusters.

// listProjects returns the projects the caller can see, ordered by id.
//
//	GET /api/atlas/v2/groups
//	GET /api/atlas/v1.0/groups
//	GET /api/public/v1.0/groups
func listProjects(s *Server, rq *request) ([]byte, error) {
	page, err := rq.query.page(s.cfg.Paging)
	if err != nil {
		return nil, err
	}
	p, err := s.store.Projects(rq.Context(), page)
	if err != nil {
		return nil, err
	}
	sf := rq.surface
	return appendList(rq.buf[:0], rq, page, p.Total, len(p.Items), func(b []byte, i int) []byte {
		return sf.appendGroup(b, rq.base, sf.groups, &p.Items[i])
	}), nil
}

// getProject returns one project.
//
//	GET /api/atlas/v2/groups/{groupId}
//	GET /api/atlas/v1.0/groups/{GROUP-ID}
//	GET /api/public/v1.0/groups/{PROJECT-ID}
func getProject(s *Server, rq *request) ([]byte, error) {
	id, err := groupID(rq.Request)
	if err != nil {
		return nil, err
	}
	p, err := s.store.Project(rq.Context(), id)
	if err != nil {
		return nil, err
	}
	return rq.single(func(b []byte) []byte { return rq.surface.appendGroup(b, rq.base, rq.surface.groups, &p) }), nil
}

// listClusters returns a project's clusters, ordered by name.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters
func listClusters(s *Server, rq *request) ([]byte, error) {
	id, err := groupID(rq.Request)
	if err != nil {
		return nil, err
	}
	page, err := rq.query.page(s.cfg.Paging)
	if err != nil {
		return nil, err
	}
	// v2 takes this flag; there are no deleted clusters to include, but a
	// malformed value is still an error.
	if _, err := rq.query.boolParam("includeDeletedWithRetainedBackups", false); err != nil {
		return nil, err
	}
	p, err := s.store.Clusters(rq.Context(), id, page)
	if err != nil {
		return nil, err
	}
	sf := rq.surface
	return appendList(rq.buf[:0], rq, page, p.Total, len(p.Items), func(b []byte, i int) []byte {
		return sf.appendCluster(b, rq.base, sf.groups, &p.Items[i])
	}), nil
}

// getCluster returns one cluster.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters/{CLUSTER-ID}
func getCluster(s *Server, rq *request) ([]byte, error) {
	ref, err := rq.surface.clusterRef(rq.Request)
	if err != nil {
		return nil, err
	}
	c, err := s.store.Cluster(rq.Context(), ref)
	if err != nil {
		return nil, err
	}
	return rq.single(func(b []byte) []byte { return rq.surface.appendCluster(b, rq.base, rq.surface.groups, &c) }), nil
}

// single appends one resource, enveloped as {"content":…,"status":200}
// when the request asked for it.
func (rq *request) single(item func([]byte) []byte) []byte {
	b := rq.buf[:0]
	if !rq.envelope {
		return item(b)
	}
	b = append(b, `{"content":`...)
	b = item(b)
	return append(b, `,"status":200}`...)
}
