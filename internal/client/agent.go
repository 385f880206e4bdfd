package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// AdminPrefix is the root of checkpointd's own API, where a backup agent
// reads its cluster, claims slots and reports checkpoints. Only
// checkpointd serves it.
const AdminPrefix = "/api/checkpointd/v1"

func adminClusterPath(project, cluster string) string {
	return AdminPrefix + "/groups/" + url.PathEscape(project) + "/clusters/" + url.PathEscape(cluster)
}

// adminCluster is a cluster as the administration API prints it.
type adminCluster struct {
	Backup struct {
		ClusterCheckpointIntervalMin *int   `json:"clusterCheckpointIntervalMin"`
		Driver                       string `json:"driver"`
		Kind                         string `json:"kind"`
		PointInTimeWindowHours       int    `json:"pointInTimeWindowHours"`
	} `json:"backup"`
	ClusterType  string `json:"clusterType"`
	ConfigServer *struct {
		HostIDs        []string `json:"hostIds"`
		ReplicaSetName string   `json:"replicaSetName"`
	} `json:"configServer"`
	Created        time.Time `json:"created"`
	GroupID        string    `json:"groupId"`
	ID             string    `json:"id"`
	MongoDBVersion string    `json:"mongoDBVersion"`
	Name           string    `json:"name"`
	ReplicaSetName string    `json:"replicaSetName"`
	Shards         []struct {
		Name           string `json:"name"`
		ReplicaSetName string `json:"replicaSetName"`
	} `json:"shards"`
}

// AdminCluster reads a cluster's settings, schedule and topology from
// checkpointd's administration API (GROUP_BACKUP_MANAGER suffices).
func (c *Client) AdminCluster(ctx context.Context, project, cluster string) (backup.Cluster, error) {
	_, body, err := c.do(ctx, http.MethodGet, adminClusterPath(project, cluster), nil, nil)
	if err != nil {
		return backup.Cluster{}, err
	}
	var in adminCluster
	if err := json.Unmarshal(body, &in); err != nil {
		return backup.Cluster{}, fmt.Errorf("%s: the server's answer is not a cluster: %w", c.base, err)
	}
	id, ok1 := backup.ParseObjectID(in.ID)
	group, ok2 := backup.ParseObjectID(in.GroupID)
	if !ok1 || !ok2 {
		return backup.Cluster{}, fmt.Errorf("%s: the server's cluster has no valid id or groupId", c.base)
	}
	out := backup.Cluster{
		ID: id, GroupID: group, Name: in.Name, Type: backup.ClusterType(in.ClusterType), MongoDBVersion: in.MongoDBVersion,
		Backup: backup.BackupKind(in.Backup.Kind), ReplicaSetName: in.ReplicaSetName, Created: in.Created.UTC(),
		Schedule: backup.CheckpointSchedule{
			Driver: backup.Driver(in.Backup.Driver),
			Window: time.Duration(in.Backup.PointInTimeWindowHours) * time.Hour,
		},
	}
	if m := in.Backup.ClusterCheckpointIntervalMin; m != nil {
		out.Schedule.Interval = time.Duration(*m) * time.Minute
	}
	for _, s := range in.Shards {
		out.Shards = append(out.Shards, backup.Shard{Name: s.Name, ReplicaSetName: s.ReplicaSetName})
	}
	if in.ConfigServer != nil {
		out.Config = backup.ConfigServer{ReplicaSetName: in.ConfigServer.ReplicaSetName, HostIDs: in.ConfigServer.HostIDs}
	}
	return out, nil
}

// ClaimSlot claims a checkpoint slot of a cluster for owner and reports
// whether owner holds it.
func (c *Client) ClaimSlot(ctx context.Context, project, cluster string, slot time.Time, owner string) (bool, error) {
	body, err := json.Marshal(map[string]string{"slot": slot.UTC().Format(time.RFC3339), "owner": owner})
	if err != nil {
		return false, err
	}
	_, answer, err := c.do(ctx, http.MethodPost, adminClusterPath(project, cluster)+"/slots", nil, body)
	if err != nil {
		return false, err
	}
	var out struct {
		Claimed *bool `json:"claimed"`
	}
	if err := json.Unmarshal(answer, &out); err != nil || out.Claimed == nil {
		return false, fmt.Errorf("%s: the server's answer is not a slot claim", c.base)
	}
	return *out.Claimed, nil
}

// Report is a checkpoint as a backup agent reports it to checkpointd's
// ingestion endpoint.
type Report struct {
	ID         string       `json:"id"`
	Timestamp  string       `json:"timestamp"`
	Started    string       `json:"started"`
	Completed  string       `json:"completed"`
	Restorable bool         `json:"restorable"`
	Parts      []ReportPart `json:"parts"`
}

// ReportPart is one part of a Report.
type ReportPart struct {
	TypeName        backup.PartType  `json:"typeName"`
	ShardName       string           `json:"shardName,omitempty"`
	ReplicaSetName  string           `json:"replicaSetName,omitempty"`
	HostID          string           `json:"hostId,omitempty"`
	TokenDiscovered bool             `json:"tokenDiscovered"`
	TokenTimestamp  *ReportTimestamp `json:"tokenTimestamp,omitempty"`
}

// ReportTimestamp is a part's token timestamp in a Report.
type ReportTimestamp struct {
	Date      string `json:"date"`
	Increment uint32 `json:"increment"`
}

// NewReport is the report of cp.
func NewReport(cp backup.Checkpoint) Report {
	r := Report{ID: cp.ID.Hex(), Timestamp: rfc3339(cp.Timestamp), Started: rfc3339(cp.Started), Completed: rfc3339(cp.Completed), Restorable: cp.Restorable}
	for _, p := range cp.Parts {
		rp := ReportPart{TypeName: p.Type, ShardName: p.ShardName, ReplicaSetName: p.ReplicaSetName, HostID: p.HostID, TokenDiscovered: p.TokenDiscovered}
		if p.TokenDiscovered {
			rp.TokenTimestamp = &ReportTimestamp{Date: rfc3339(p.TokenTimestamp.Date), Increment: p.TokenTimestamp.Increment}
		}
		r.Parts = append(r.Parts, rp)
	}
	return r
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ReportCheckpoint sends a checkpoint report. The server stores it once:
// sending the same report again (a retry whose first answer was lost) is
// answered as a success too, so created tells the first time apart.
func (c *Client) ReportCheckpoint(ctx context.Context, project, cluster string, r Report) (created bool, err error) {
	body, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	status, _, err := c.do(ctx, http.MethodPost, adminClusterPath(project, cluster)+"/checkpoints", nil, body)
	return status == http.StatusCreated, err
}

// SlotReport is a slot's record as a backup agent reports it to
// checkpointd's administration API (PUT .../slots/{slot}).
type SlotReport struct {
	Outcome      string           `json:"outcome"`
	CheckpointID string           `json:"checkpointId,omitempty"`
	Reason       string           `json:"reason,omitempty"`
	Detail       string           `json:"detail,omitempty"`
	Part         string           `json:"part,omitempty"`
	Steps        []SlotReportStep `json:"steps,omitempty"`
}

// SlotReportStep is one step of a SlotReport.
type SlotReportStep struct {
	Step string `json:"step"`
	At   string `json:"at"`
	Part string `json:"part,omitempty"`
}

// NewSlotReport is the report of s.
func NewSlotReport(s backup.Slot) SlotReport {
	r := SlotReport{Outcome: string(s.Outcome), Reason: string(s.Reason), Detail: s.Detail, Part: s.Part}
	if !s.CheckpointID.IsZero() {
		r.CheckpointID = s.CheckpointID.Hex()
	}
	for _, st := range s.Steps {
		r.Steps = append(r.Steps, SlotReportStep{Step: string(st.Kind), At: rfc3339(st.At), Part: st.Part})
	}
	return r
}

// ReportSlot delivers the record of the slot at slot of a cluster. The
// same record again is accepted (a retry); another record of a slot that
// has one is the server's DUPLICATE_SLOT.
func (c *Client) ReportSlot(ctx context.Context, project, cluster string, slot time.Time, r SlotReport) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, _, err = c.do(ctx, http.MethodPut, adminClusterPath(project, cluster)+"/slots/"+url.PathEscape(slot.UTC().Format(time.RFC3339)), nil, body)
	return err
}
