package httpapi

import (
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/cloudmanager"
)

// These are the resources of a user's workflow around checkpoints: finding
// the project by name, and turning checkpoints on and off through the
// snapshot schedule and (Cloud Manager) the backup configuration.

var (
	opGetProjectByName   = &operation{name: "getProjectByName", versions: []version{{date: "2023-01-01"}}}
	opGetSchedule        = &operation{name: "getLegacySnapshotSchedule", versions: checkpointsVersions}
	opUpdateSchedule     = &operation{name: "updateLegacySnapshotSchedule", versions: checkpointsVersions}
	opListBackupConfigs  = &operation{name: "listBackupConfigs"}
	opGetBackupConfig    = &operation{name: "getBackupConfig"}
	opUpdateBackupConfig = &operation{name: "updateBackupConfig"}
)

// maxGroupNameLen is the longest project name (the spec's groupName
// maxLength).
const maxGroupNameLen = 64

// getProjectByName returns the project of that name the caller may read,
// as getProject does by id.
//
//	GET /api/atlas/v2/groups/byName/{groupName}
//	GET /api/atlas/v1.0/groups/byName/{GROUP-NAME}
//	GET /api/public/v1.0/groups/byName/{GROUP-NAME}
func getProjectByName(s *Server, rq *request) (result, error) {
	name := rq.PathValue("groupName")
	if len([]rune(name)) > maxGroupNameLen {
		return result{}, httpErrorf(guessGroupNameTooLongStatus, guessGroupNameTooLongCode,
			"Invalid attribute %s specified: a project name is at most %d characters.", "groupName", maxGroupNameLen)
	}
	p, err := s.store.ProjectByName(rq.Context(), name)
	if err != nil {
		return result{}, err
	}
	return result{body: rq.surface.appendGroup(rq.buf[:0], rq.base, rq.surface.groups, &p)}, nil
}

// getSchedule returns a cluster's legacy snapshot schedule.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/snapshotSchedule
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}/snapshotSchedule
//	GET /api/public/v1.0/groups/{PROJECT-ID}/backupConfigs/{CLUSTER-ID}/snapshotSchedule
func getSchedule(s *Server, rq *request) (result, error) {
	c, err := s.scheduledCluster(rq)
	if err != nil {
		return result{}, err
	}
	return result{body: rq.surface.appendSchedule(rq.buf[:0], rq.base, rq.surface.groups, &c)}, nil
}

// scheduledCluster is the route's cluster, if it has a legacy snapshot
// schedule: a cluster on Cloud Backup has none (BACKUP_CONFIG_NOT_FOUND).
func (s *Server) scheduledCluster(rq *request) (backup.Cluster, error) {
	c, err := s.routeCluster(rq)
	if err == nil && c.Backup == backup.BackupCloud {
		err = backup.ErrBackupConfigNotFound(rq.PathValue("cluster"), c.GroupID.Hex())
	}
	return c, err
}

// routeCluster is the cluster the route's path names.
func (s *Server) routeCluster(rq *request) (backup.Cluster, error) {
	ref, err := rq.surface.clusterRef(rq)
	if err != nil {
		return backup.Cluster{}, err
	}
	return s.store.Cluster(rq.Context(), ref)
}

// updateSchedule changes the fields of the snapshot schedule sent: the
// checkpoint interval and window are the schedule the engine and agents
// follow, from their next slot.
//
//	PATCH /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/snapshotSchedule
//	PATCH /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}/snapshotSchedule
//	PATCH /api/public/v1.0/groups/{PROJECT-ID}/backupConfigs/{CLUSTER-ID}/snapshotSchedule
func updateSchedule(s *Server, rq *request) (result, error) {
	body, err := readJSONBody(rq)
	if err != nil {
		return result{}, err
	}
	c, err := s.updateCluster(rq, func(c *backup.Cluster) error {
		in := rq.surface.newSchedule()
		if err := decodeJSON(body, in); err != nil {
			return err
		}
		u, err := in.Update(c)
		if err != nil {
			return err
		}
		u.WindowFixed = u.WindowFixed || !guessAtlasWindowSettable
		return c.ApplySchedule(u)
	})
	if err != nil {
		return result{}, err
	}
	return result{body: rq.surface.appendSchedule(rq.buf[:0], rq.base, rq.surface.groups, &c)}, nil
}

// updateCluster changes the route's cluster's backup for the caller: the
// store reads, changes and writes it in one transaction (so that of two
// changes at once neither is lost) once the caller may change the
// project's backup (store.UpdateBackup, backup.Principal.CheckBackupAdmin),
// and lets change set nothing but the backup's state and schedule.
func (s *Server) updateCluster(rq *request, change func(*backup.Cluster) error) (backup.Cluster, error) {
	c, err := s.scheduledCluster(rq)
	if err != nil {
		return c, err
	}
	ref := backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}
	return s.store.UpdateBackup(rq.Context(), ref, change)
}

// listBackupConfigs returns one page of a project's backup
// configurations, one per cluster, ordered by cluster name.
//
//	GET /api/public/v1.0/groups/{PROJECT-ID}/backupConfigs
func listBackupConfigs(s *Server, rq *request) (result, error) {
	id, page, err := s.groupPage(rq)
	if err != nil {
		return result{}, err
	}
	p, err := s.store.Clusters(rq.Context(), id, page)
	if err != nil {
		return result{}, err
	}
	return rq.list(page, p.Total, len(p.Items), func(b []byte, i int) []byte {
		return cloudmanager.AppendBackupConfig(b, rq.base, rq.surface.groups, &p.Items[i])
	}), nil
}

// getBackupConfig returns a cluster's backup configuration.
//
//	GET /api/public/v1.0/groups/{PROJECT-ID}/backupConfigs/{CLUSTER-ID}
func getBackupConfig(s *Server, rq *request) (result, error) {
	c, err := s.routeCluster(rq)
	if err != nil {
		return result{}, err
	}
	return result{body: cloudmanager.AppendBackupConfig(rq.buf[:0], rq.base, rq.surface.groups, &c)}, nil
}

// updateBackupConfig moves a cluster's backup to the statusName sent,
// under Cloud Manager's rules (backup.Cluster.SetStatus): STOPPED stops
// the engine's and agents' checkpoints at once and keeps those taken;
// TERMINATING deletes them, then leaves the backup INACTIVE. A
// termination that fails part way stays TERMINATING, and is finished by
// sending it again.
//
//	PATCH /api/public/v1.0/groups/{PROJECT-ID}/backupConfigs/{CLUSTER-ID}
func updateBackupConfig(s *Server, rq *request) (result, error) {
	body, err := readJSONBody(rq)
	if err != nil {
		return result{}, err
	}
	var terminate bool
	c, err := s.updateCluster(rq, func(c *backup.Cluster) error {
		var in cloudmanager.BackupConfigInput
		if err := decodeJSON(body, &in); err != nil {
			return err
		}
		to, err := in.Status(c)
		if err != nil || to == nil {
			return err
		}
		terminate, err = c.SetStatus(*to)
		return err
	})
	if err != nil {
		return result{}, err
	}
	if terminate {
		// Deleting checkpoints is retention, the server's own work
		// (PruneCheckpoints is the system's alone): done as the server once
		// the store let the caller move the backup to TERMINATING.
		sys := backup.WithPrincipal(rq.Context(), backup.System)
		if _, err := s.store.PruneCheckpoints(sys, c.ID, endOfTime); err != nil {
			return result{}, err
		}
		ref := backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}
		if c, err = s.store.UpdateBackup(rq.Context(), ref, func(c *backup.Cluster) error { c.Terminated(); return nil }); err != nil {
			return result{}, err
		}
	}
	return result{body: cloudmanager.AppendBackupConfig(rq.buf[:0], rq.base, rq.surface.groups, &c)}, nil
}

// endOfTime is after every checkpoint's timestamp: pruning before it
// deletes them all.
var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
