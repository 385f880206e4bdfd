package backup

import "time"

// RestorePoint is the newest point a cluster under legacy backup can be
// restored to: the Timestamp of its newest restorable checkpoint. It is
// what monitoring watches, whichever process took the checkpoint.
type RestorePoint struct {
	GroupID, ClusterID ObjectID
	ClusterName        string
	// Timestamp is the newest restorable checkpoint's; zero when the
	// cluster has none yet.
	Timestamp time.Time
}
