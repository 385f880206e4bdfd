package httpapi

// These are the resources clients read to find their way to checkpoints:
// projects (groups) and their clusters.

// listProjects returns the projects the caller can see, ordered by id.
//
//	GET /api/atlas/v2/groups
//	GET /api/atlas/v1.0/groups
//	GET /api/public/v1.0/groups
func listProjects(s *Server, rq *request) (result, error) {
	page, err := rq.query.page(s.cfg.Paging)
	if err != nil {
		return result{}, err
	}
	p, err := s.store.Projects(rq.Context(), page)
	if err != nil {
		return result{}, err
	}
	sf := rq.surface
	return rq.list(page, p.Total, len(p.Items), func(b []byte, i int) []byte {
		return sf.appendGroup(b, rq.base, sf.groups, &p.Items[i])
	}), nil
}

// getProject returns one project.
//
//	GET /api/atlas/v2/groups/{groupId}
//	GET /api/atlas/v1.0/groups/{GROUP-ID}
//	GET /api/public/v1.0/groups/{PROJECT-ID}
func getProject(s *Server, rq *request) (result, error) {
	id, err := groupID(rq)
	if err != nil {
		return result{}, err
	}
	p, err := s.store.Project(rq.Context(), id)
	if err != nil {
		return result{}, err
	}
	return result{body: rq.surface.appendGroup(rq.buf[:0], rq.base, rq.surface.groups, &p)}, nil
}

// listClusters returns a project's clusters, ordered by name.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters
func listClusters(s *Server, rq *request) (result, error) {
	id, page, err := s.groupPage(rq)
	if err != nil {
		return result{}, err
	}
	// v2 takes this flag; there are no deleted clusters to include, but a
	// malformed value is still an error.
	if _, err := rq.query.boolParam("includeDeletedWithRetainedBackups", false); err != nil {
		return result{}, err
	}
	p, err := s.store.Clusters(rq.Context(), id, page)
	if err != nil {
		return result{}, err
	}
	sf := rq.surface
	return rq.list(page, p.Total, len(p.Items), func(b []byte, i int) []byte {
		return sf.appendCluster(b, rq.base, sf.groups, &p.Items[i])
	}), nil
}

// getCluster returns one cluster.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters/{CLUSTER-ID}
func getCluster(s *Server, rq *request) (result, error) {
	c, err := s.routeCluster(rq)
	if err != nil {
		return result{}, err
	}
	return result{body: rq.surface.appendCluster(rq.buf[:0], rq.base, rq.surface.groups, &c)}, nil
}
