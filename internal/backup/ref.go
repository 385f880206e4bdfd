package backup

// ClusterRef names a cluster the way a request does: by project and either
// name (Atlas) or id (Cloud Manager). Exactly one of Name and ID is set.
type ClusterRef struct {
	GroupID ObjectID
	Name    string
	ID      ObjectID
}

// ByName reports whether the cluster is named by its name.
func (r ClusterRef) ByName() bool { return r.Name != "" }

// Label is what error details call the cluster: its name, or its id's hex.
func (r ClusterRef) Label() string {
	if r.ByName() {
		return r.Name
	}
	return r.ID.Hex()
}

// NotFound is the error for a reference that matches no cluster in an
// existing project.
func (r ClusterRef) NotFound() *Error {
	if r.ByName() {
		return ErrClusterNotFound(r.Name, r.GroupID.Hex())
	}
	return ErrClusterIDNotFound(r.ID.Hex(), r.GroupID.Hex())
}
