package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// RestoreStore is the part of Store the restore job routes read and
// write: CreateRestoreJobs needs the Project Owner or Backup Manager role
// (store.Report), the reads Project Read Only.
type RestoreStore interface {
	CreateRestoreJobs(ctx context.Context, jobs []backup.RestoreJob) error
	RestoreJobs(ctx context.Context, ref backup.ClusterRef, batch backup.ObjectID, page backup.PageRequest) (backup.Page[backup.RestoreJob], error)
	RestoreJob(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.RestoreJob, error)
}

var (
	opListRestoreJobs  = &operation{name: "listLegacyBackupRestoreJobs", versions: checkpointsVersions}
	opCreateRestoreJob = &operation{name: "createLegacyBackupRestoreJob", versions: checkpointsVersions}
	opGetRestoreJob    = &operation{name: "getLegacyBackupRestoreJob", versions: checkpointsVersions}
)

// restoreRequestJSON is the body of a restore job request
// (BackupRestoreJob's writable fields). Only checkpoint restores exist
// here; the other kinds' fields are read so that they are refused by
// name rather than as unknown.
type restoreRequestJSON struct {
	CheckpointID *string `json:"checkpointId"`
	// CheckPointID is the spelling of go.mongodb.org/atlas and the Ops
	// Manager Go client (ContinuousJobRequest), accepted alike.
	CheckPointID         *string       `json:"checkPointId"`
	Delivery             *deliveryJSON `json:"delivery"`
	SnapshotID           *string       `json:"snapshotId"`
	OplogTs              *string       `json:"oplogTs"`
	OplogInc             *int64        `json:"oplogInc"`
	PointInTimeUTCMillis *float64      `json:"pointInTimeUTCMillis"`
}

// deliveryJSON is BackupRestoreJobDelivery's writable fields.
type deliveryJSON struct {
	MethodName        *string `json:"methodName"`
	TargetGroupID     *string `json:"targetGroupId"`
	TargetClusterID   *string `json:"targetClusterId"`
	TargetClusterName *string `json:"targetClusterName"`
	// Download settings of HTTP delivery: read, and meaningless for an
	// automated restore.
	ExpirationHours *int64 `json:"expirationHours"`
	MaxDownloads    *int64 `json:"maxDownloads"`
}

// restoreRequest checks a request body and returns the checkpoint it names
// and the target reference it names.
func (in *restoreRequestJSON) restoreRequest() (backup.ObjectID, backup.ClusterRef, error) {
	var none backup.ObjectID
	var target backup.ClusterRef
	for _, f := range []struct {
		name string
		set  bool
	}{{"snapshotId", in.SnapshotID != nil}, {"oplogTs", in.OplogTs != nil}, {"oplogInc", in.OplogInc != nil},
		{"pointInTimeUTCMillis", in.PointInTimeUTCMillis != nil}} {
		if f.set {
			return none, target, backup.ErrInvalidAttribute(f.name, guessOnlyCheckpointRestores)
		}
	}
	raw := in.CheckpointID
	if in.CheckPointID != nil {
		if raw != nil && *raw != *in.CheckPointID {
			return none, target, backup.ErrInvalidAttribute("checkPointId", "it names another checkpoint than checkpointId")
		}
		raw = in.CheckPointID
	}
	if raw == nil {
		return none, target, backup.ErrMissingAttribute("checkpointId")
	}
	id, ok := backup.ParseObjectID(*raw)
	if !ok {
		return none, target, backup.ErrInvalidCheckpointID(*raw)
	}
	d := in.Delivery
	switch {
	case d == nil:
		return none, target, backup.ErrMissingAttribute("delivery")
	case d.MethodName == nil:
		return none, target, backup.ErrMissingAttribute("delivery.methodName")
	case *d.MethodName != "AUTOMATED_RESTORE":
		// checkpointd holds no data to download or copy: only an
		// automated restore, which the target cluster's agent carries
		// out, has a meaning here.
		return none, target, backup.Errorf(backup.Invalid, backup.CodeUnsupportedDeliveryMethod,
			"Delivery method %s is not supported for checkpoint restores; use AUTOMATED_RESTORE.", *d.MethodName)
	case d.TargetGroupID == nil:
		return none, target, backup.ErrMissingAttribute("delivery.targetGroupId")
	case d.TargetClusterID == nil && d.TargetClusterName == nil:
		return none, target, backup.Errorf(backup.Invalid, backup.CodeMissingOneOfAttributes,
			"At least one of the attributes %s or %s must be specified.", "delivery.targetClusterId", "delivery.targetClusterName")
	}
	if target.GroupID, ok = backup.ParseObjectID(*d.TargetGroupID); !ok {
		return none, target, backup.ErrInvalidAttribute("delivery.targetGroupId", "it is not 24 hexadecimal digits")
	}
	if d.TargetClusterID != nil {
		if target.ID, ok = backup.ParseObjectID(*d.TargetClusterID); !ok {
			return none, target, backup.ErrInvalidAttribute("delivery.targetClusterId", "it is not 24 hexadecimal digits")
		}
	} else {
		if !backup.ValidClusterName(*d.TargetClusterName) {
			return none, target, backup.ErrInvalidAttribute("delivery.targetClusterName", "it is not a cluster name")
		}
		target.Name = *d.TargetClusterName
	}
	return id, target, nil
}

// createRestoreJob restores a cluster to one of its checkpoints: one job
// per part of the cluster (the config server's first, then each shard's),
// sharing a batchId, answered as a page of jobs with status 200 as the
// service answers (a list, not one job). Jobs of a SIMULATED cluster are
// finished by the engine; an AGENT cluster's wait for its agent.
//
// The v2 operation's text says it does not create checkpoint restore jobs
// for sharded clusters, while its schema carries checkpointId for sharded
// clusters only; this serves the schema, as v1.0 and Cloud Manager do.
//
//	POST /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs
//	POST /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}/restoreJobs
//	POST /api/public/v1.0/groups/{PROJECT-ID}/clusters/{CLUSTER-ID}/restoreJobs
func createRestoreJob(s *Server, rq *request) (result, error) {
	ref, err := rq.surface.clusterRef(rq)
	if err != nil {
		return result{}, err
	}
	ctx := rq.Context()
	c, err := s.store.Cluster(ctx, ref)
	if err != nil {
		return result{}, err
	}
	var in restoreRequestJSON
	if err := readJSON(rq, &in); err != nil {
		return result{}, err
	}
	id, targetRef, err := in.restoreRequest()
	if err != nil {
		return result{}, err
	}
	cp, err := s.store.Checkpoint(ctx, ref, id)
	if err != nil {
		return result{}, err
	}
	target, err := s.store.Cluster(ctx, targetRef)
	if err != nil {
		return result{}, err
	}
	now := s.cfg.Clock.Now()
	plan := backup.PlanRestore(&c, &cp, now)
	switch {
	case plan.Incomplete:
		return result{}, backup.Errorf(backup.Conflict, backup.CodeIncompleteClusterSnapshot,
			"Checkpoint %s is not restorable: %s", cp.ID.Hex(), plan.Why)
	case plan.OutsideWindow:
		return result{}, backup.Errorf(backup.Conflict, backup.CodeNoCheckpointForPITRestore,
			"Checkpoint %s is outside the point-in-time window of cluster %s.", cp.ID.Hex(), c.Name)
	}
	// Whole seconds, as every time the API prints.
	jobs := plan.RestoreJobs(s.ids, now.Truncate(time.Second), backup.RestoreTarget{GroupID: target.GroupID, ClusterID: target.ID, ClusterName: target.Name},
		c.Schedule.DriverOrDefault())
	if err := s.store.CreateRestoreJobs(ctx, jobs); err != nil {
		return result{}, err
	}
	if s.cfg.RestoreJobsCreated != nil {
		s.cfg.RestoreJobsCreated()
	}
	coll := rq.surface.restoreJobsPath(ref)
	page := backup.PageRequest{Num: 1, Size: len(jobs), IncludeCount: true}
	return rq.list(page, len(jobs), len(jobs), func(b []byte, i int) []byte {
		return rq.surface.appendRestoreJob(b, rq.base, coll, &jobs[i])
	}), nil
}

// listRestoreJobs returns one page of a cluster's restore jobs, in the
// order they were created, only those of one batch with ?batchId=.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}/restoreJobs
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters/{CLUSTER-ID}/restoreJobs
func listRestoreJobs(s *Server, rq *request) (result, error) {
	ref, page, err := s.clusterPage(rq)
	if err != nil {
		return result{}, err
	}
	var batch backup.ObjectID
	if raw, ok := rq.query.get("batchId"); ok {
		if batch, ok = backup.ParseObjectID(raw); !ok {
			return result{}, backup.ErrInvalidQueryParameter("batchId")
		}
	}
	p, err := s.store.RestoreJobs(rq.Context(), ref, batch, page)
	if err != nil {
		return result{}, err
	}
	coll := rq.surface.restoreJobsPath(ref)
	return rq.list(page, p.Total, len(p.Items), func(b []byte, i int) []byte {
		return rq.surface.appendRestoreJob(b, rq.base, coll, &p.Items[i])
	}), nil
}

// getRestoreJob returns one restore job.
//
//	GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs/{jobId}
//	GET /api/atlas/v1.0/groups/{GROUP-ID}/clusters/{CLUSTER-NAME}/restoreJobs/{JOB-ID}
//	GET /api/public/v1.0/groups/{PROJECT-ID}/clusters/{CLUSTER-ID}/restoreJobs/{JOB-ID}
func getRestoreJob(s *Server, rq *request) (result, error) {
	ref, id, err := rq.surface.clusterItemRef(rq, "jobId", backup.ErrInvalidJobID)
	if err != nil {
		return result{}, err
	}
	j, err := s.store.RestoreJob(rq.Context(), ref, id)
	if err != nil {
		return result{}, err
	}
	return result{body: rq.surface.appendRestoreJob(rq.buf[:0], rq.base, rq.surface.restoreJobsPath(ref), &j)}, nil
}

// restoreJobsPath is the absolute path of a cluster's restore jobs.
func (sf *surface) restoreJobsPath(ref backup.ClusterRef) string {
	return sf.groups + "/" + ref.GroupID.Hex() + "/clusters/" + ref.Label() + "/restoreJobs"
}

var (
	opAdminClaimRestoreJob  = &operation{name: "adminClaimRestoreJob"}
	opAdminReportRestoreJob = &operation{name: "adminReportRestoreJob"}
	opAdminRestorePlan      = &operation{name: "adminRestorePlan"}
)

// partJSON is a part as the administration API names it.
type partJSON struct {
	TypeName       string `json:"typeName"`
	ShardName      string `json:"shardName,omitempty"`
	ReplicaSetName string `json:"replicaSetName,omitempty"`
	HostID         string `json:"hostId,omitempty"`
}

// timestampJSON is a BSON timestamp, as the generations print one.
type timestampJSON struct {
	Date      string `json:"date"`
	Increment uint32 `json:"increment"`
}

func partOf(p backup.Part) partJSON {
	return partJSON{TypeName: string(p.Type), ShardName: p.ShardName, ReplicaSetName: p.ReplicaSetName, HostID: p.HostID}
}

func timestampOf(t backup.BSONTimestamp) timestampJSON {
	return timestampJSON{Date: formatTime(t.Date), Increment: t.Increment}
}

// adminRestoreJobJSON is a restore job as an agent sees it: exactly what
// to restore (the part, and the oplog timestamp to replay up to, with
// mongorestore's exclusive --oplogLimit beside it), and its state.
type adminRestoreJobJSON struct {
	BatchID      string        `json:"batchId"`
	CheckpointID string        `json:"checkpointId"`
	ClusterID    string        `json:"clusterId"`
	ClusterName  string        `json:"clusterName"`
	Created      string        `json:"created"`
	Driver       string        `json:"driver"`
	Finished     string        `json:"finished,omitempty"`
	GroupID      string        `json:"groupId"`
	ID           string        `json:"id"`
	OplogLimit   string        `json:"oplogLimit"`
	Owner        string        `json:"owner,omitempty"`
	Part         partJSON      `json:"part"`
	StatusName   string        `json:"statusName"`
	Timestamp    timestampJSON `json:"timestamp"`
}

func adminRestoreJob(j *backup.RestoreJob) adminRestoreJobJSON {
	out := adminRestoreJobJSON{
		BatchID: j.BatchID.Hex(), CheckpointID: j.CheckpointID.Hex(), ClusterID: j.ClusterID.Hex(), ClusterName: j.ClusterName,
		Created: formatTime(j.Created), Driver: string(j.Driver), GroupID: j.GroupID.Hex(), ID: j.ID.Hex(),
		OplogLimit: backup.BSONTimestamp{Date: j.Part.TokenTimestamp.Date, Increment: j.Part.TokenTimestamp.Increment + 1}.String(),
		Owner:      j.Owner, Part: partOf(j.Part), StatusName: string(j.Status), Timestamp: timestampOf(j.Part.TokenTimestamp),
	}
	if !j.Finished.IsZero() {
		out.Finished = formatTime(j.Finished)
	}
	return out
}

// jsonResult is v marshalled as the body of a 200.
func jsonResult(rq *request, v any) (result, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return result{}, err
	}
	return result{body: append(rq.buf[:0], b...)}, nil
}

// restoreClaimJSON is an agent's claim or report.
type restoreClaimJSON struct {
	Owner      *string `json:"owner"`
	StatusName *string `json:"statusName"`
}

// readClaim reads an agent's claim or report body: owner always,
// statusName only when report is set.
func readClaim(rq *request, report bool) (owner string, status backup.RestoreStatus, err error) {
	var in restoreClaimJSON
	if err := readJSON(rq, &in); err != nil {
		return "", "", err
	}
	if in.Owner == nil || *in.Owner == "" {
		return "", "", backup.ErrMissingAttribute("owner")
	}
	switch {
	case !report && in.StatusName != nil:
		return "", "", backup.ErrInvalidAttribute("statusName", "a claim sets no status")
	case report && in.StatusName == nil:
		return "", "", backup.ErrMissingAttribute("statusName")
	case report && !backup.RestoreStatus(*in.StatusName).Final():
		return "", "", backup.ErrInvalidAttribute("statusName", "a report is FINISHED, BROKEN or KILLED")
	case report:
		status = backup.RestoreStatus(*in.StatusName)
	}
	return *in.Owner, status, nil
}

// adminClaimRestoreJob gives a backup agent the next restore job of its
// cluster to carry out (200 with the job), or 204 when there is none. A
// job an agent claimed and has not reported is given to it again, so
// that a restarted agent resumes it.
//
//	POST /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/restoreJobs/claim
func adminClaimRestoreJob(s *Server, rq *request) (result, error) {
	c, err := s.adminCluster(rq, checkReporter)
	if err != nil {
		return result{}, err
	}
	owner, _, err := readClaim(rq, false)
	if err != nil {
		return result{}, err
	}
	j, ok, err := s.cfg.Admin.ClaimRestoreJob(rq.Context(), backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}, owner)
	if err != nil || !ok {
		return result{status: http.StatusNoContent}, err
	}
	return jsonResult(rq, adminRestoreJob(&j))
}

// adminReportRestoreJob records how a restore job an agent claimed ended:
// FINISHED, BROKEN or KILLED. The same report again changes nothing.
//
//	PATCH /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/restoreJobs/{jobId}
func adminReportRestoreJob(s *Server, rq *request) (result, error) {
	c, err := s.adminCluster(rq, checkReporter)
	if err != nil {
		return result{}, err
	}
	id, err := pathID(rq, "jobId", backup.ErrInvalidJobID)
	if err != nil {
		return result{}, err
	}
	owner, status, err := readClaim(rq, true)
	if err != nil {
		return result{}, err
	}
	j, err := s.cfg.Admin.ReportRestoreJob(rq.Context(), backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}, id, status, owner, s.cfg.Clock.Now())
	if err != nil {
		return result{}, err
	}
	return jsonResult(rq, adminRestoreJob(&j))
}

// restorePlanJSON is backup.RestorePlan on the administration API.
type restorePlanJSON struct {
	CheckpointID string            `json:"checkpointId"`
	ClusterID    string            `json:"clusterId"`
	ClusterName  string            `json:"clusterName"`
	GroupID      string            `json:"groupId"`
	Restorable   bool              `json:"restorable"`
	Steps        []restoreStepJSON `json:"steps"`
	Timestamp    string            `json:"timestamp"`
	Warnings     []string          `json:"warnings"`
}

type restoreStepJSON struct {
	Command        string         `json:"command,omitempty"`
	OplogLimit     string         `json:"oplogLimit,omitempty"`
	Order          int            `json:"order"`
	Part           partJSON       `json:"part"`
	TokenTimestamp *timestampJSON `json:"tokenTimestamp,omitempty"`
}

// restorePlanOf is the administration API's restore plan of a
// checkpoint, as the web view shows it too.
func restorePlanOf(p *backup.RestorePlan) restorePlanJSON {
	out := restorePlanJSON{CheckpointID: p.Checkpoint.ID.Hex(), ClusterID: p.Checkpoint.ClusterID.Hex(), ClusterName: p.ClusterName,
		GroupID: p.Checkpoint.GroupID.Hex(), Restorable: p.Restorable, Timestamp: formatTime(p.Checkpoint.Timestamp),
		Warnings: append([]string{}, p.Warnings...), Steps: []restoreStepJSON{}}
	for _, st := range p.Steps {
		js := restoreStepJSON{Command: st.Command, Order: st.Order, Part: partOf(st.Part)}
		if st.Part.TokenDiscovered {
			ts := timestampOf(st.Part.TokenTimestamp)
			js.TokenTimestamp, js.OplogLimit = &ts, st.OplogLimit.String()
		}
		out.Steps = append(out.Steps, js)
	}
	return out
}

// adminRestorePlan answers how to restore a checkpoint by hand: per part,
// config server first, the oplog position its replay stops at
// (mongorestore --oplogReplay --oplogLimit seconds:increment), and
// warnings when the checkpoint is not restorable, saying why. Project
// Read Only may read it.
//
//	GET /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/checkpoints/{checkpointId}/restorePlan
func adminRestorePlan(s *Server, rq *request) (result, error) {
	c, err := s.adminCluster(rq, checkRead)
	if err != nil {
		return result{}, err
	}
	id, err := pathID(rq, "checkpointId", backup.ErrInvalidCheckpointID)
	if err != nil {
		return result{}, err
	}
	cp, err := s.cfg.Admin.Checkpoint(rq.Context(), backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}, id)
	if err != nil {
		return result{}, err
	}
	plan := backup.PlanRestore(&c, &cp, s.cfg.Clock.Now())
	return jsonResult(rq, restorePlanOf(&plan))
}

func checkRead(p *backup.Principal, org, project backup.ObjectID) error {
	return p.CheckProject(org, project)
}
