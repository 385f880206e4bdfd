package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// RestoreJob is a restore job as every API generation prints it (Atlas
// adds clusterName, Cloud Manager checkpointId and, for a mirrored config
// server's job, hostId).
type RestoreJob struct {
	ID           string    `json:"id"`
	BatchID      string    `json:"batchId"`
	ClusterID    string    `json:"clusterId"`
	ClusterName  string    `json:"clusterName"`
	CheckpointID string    `json:"checkpointId"`
	GroupID      string    `json:"groupId"`
	HostID       string    `json:"hostId"`
	Created      time.Time `json:"created"`
	StatusName   string    `json:"statusName"`
	Delivery     struct {
		MethodName string `json:"methodName"`
		StatusName string `json:"statusName"`
	} `json:"delivery"`
	// Timestamp is the oplog entry the job's part is replayed up to.
	Timestamp Timestamp `json:"timestamp"`
}

// RestoreJobs is a page of restore jobs as the server sent it.
type RestoreJobs struct {
	Results    []RestoreJob    `json:"results"`
	TotalCount int             `json:"totalCount"`
	Body       json.RawMessage `json:"-"`
}

// RestoreTarget is the cluster a restore writes to: on Cloud Manager its
// id, on Atlas its name.
type RestoreTarget struct {
	Project, Cluster string
}

func (c *Client) restoreJobsPath(project, cluster string) string {
	p, cl := url.PathEscape(project), url.PathEscape(cluster)
	switch c.api {
	case AtlasV1:
		return "/api/atlas/v1.0/groups/" + p + "/clusters/" + cl + "/restoreJobs"
	case CloudManager:
		return "/api/public/v1.0/groups/" + p + "/clusters/" + cl + "/restoreJobs"
	}
	return "/api/atlas/v2/groups/" + p + "/clusters/" + cl + "/restoreJobs"
}

func (c *Client) decodeJobs(body []byte) (*RestoreJobs, error) {
	jobs := &RestoreJobs{Body: body}
	if err := json.Unmarshal(body, jobs); err != nil {
		return nil, fmt.Errorf("%s: the server's answer is not a page of restore jobs: %w", c.base, err)
	}
	return jobs, nil
}

// CreateRestoreJob restores a cluster to one of its checkpoints, into
// target, as an automated restore: the server answers the batch's jobs,
// one per part of the cluster.
func (c *Client) CreateRestoreJob(ctx context.Context, project, cluster, checkpointID string, target RestoreTarget) (*RestoreJobs, error) {
	delivery := map[string]string{"methodName": "AUTOMATED_RESTORE", "targetGroupId": target.Project}
	if c.api == CloudManager {
		delivery["targetClusterId"] = target.Cluster
	} else {
		delivery["targetClusterName"] = target.Cluster
	}
	req, err := json.Marshal(map[string]any{"checkpointId": checkpointID, "delivery": delivery})
	if err != nil {
		return nil, err
	}
	_, body, err := c.do(ctx, http.MethodPost, c.restoreJobsPath(project, cluster), nil, req)
	if err != nil {
		return nil, err
	}
	return c.decodeJobs(body)
}

// ListRestoreJobs reads one page of a cluster's restore jobs, only those
// of batch unless it is empty.
func (c *Client) ListRestoreJobs(ctx context.Context, project, cluster, batch string, opt ListOptions) (*RestoreJobs, error) {
	q := url.Values{}
	if batch != "" {
		q.Set("batchId", batch)
	}
	if opt.PageNum > 0 {
		q.Set("pageNum", strconv.Itoa(opt.PageNum))
	}
	if opt.ItemsPerPage > 0 {
		q.Set("itemsPerPage", strconv.Itoa(opt.ItemsPerPage))
	}
	body, err := c.get(ctx, c.restoreJobsPath(project, cluster), q)
	if err != nil {
		return nil, err
	}
	return c.decodeJobs(body)
}

// GetRestoreJob reads one restore job and returns it with its JSON as the
// server sent it.
func (c *Client) GetRestoreJob(ctx context.Context, project, cluster, id string) (*RestoreJob, json.RawMessage, error) {
	body, err := c.get(ctx, c.restoreJobsPath(project, cluster)+"/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, nil, err
	}
	var j RestoreJob
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, nil, fmt.Errorf("%s: the server's answer is not a restore job: %w", c.base, err)
	}
	return &j, body, nil
}

// RestorePart is the part of a cluster a restore step or job restores.
type RestorePart struct {
	TypeName       string `json:"typeName"`
	ShardName      string `json:"shardName"`
	ReplicaSetName string `json:"replicaSetName"`
	HostID         string `json:"hostId"`
}

// RestorePlan is checkpointd's plan for restoring a checkpoint by hand
// (its administration API; no other server has it).
type RestorePlan struct {
	CheckpointID string   `json:"checkpointId"`
	ClusterName  string   `json:"clusterName"`
	Timestamp    string   `json:"timestamp"`
	Restorable   bool     `json:"restorable"`
	Warnings     []string `json:"warnings"`
	Steps        []struct {
		Order          int         `json:"order"`
		Part           RestorePart `json:"part"`
		TokenTimestamp *Timestamp  `json:"tokenTimestamp"`
		OplogLimit     string      `json:"oplogLimit"`
		Command        string      `json:"command"`
	} `json:"steps"`
}

// GetRestorePlan reads the restore plan of a checkpoint of the cluster
// named cluster (by name: the administration API names clusters so, in
// every generation).
func (c *Client) GetRestorePlan(ctx context.Context, project, cluster, checkpointID string) (*RestorePlan, json.RawMessage, error) {
	if c.api == CloudManager {
		return nil, nil, errors.New("a restore plan names the cluster by its name: use --api atlas-v2 or atlas-v1 with --cluster NAME")
	}
	body, err := c.get(ctx, AdminPrefix+"/groups/"+url.PathEscape(project)+"/clusters/"+url.PathEscape(cluster)+
		"/checkpoints/"+url.PathEscape(checkpointID)+"/restorePlan", nil)
	if err != nil {
		return nil, nil, err
	}
	var p RestorePlan
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, nil, fmt.Errorf("%s: the server's answer is not a restore plan: %w", c.base, err)
	}
	return &p, body, nil
}

// AgentRestoreJob is a restore job as a backup agent claims it: exactly
// what to restore (the part, up to Timestamp; OplogLimit is the same
// position as mongorestore --oplogLimit takes it, one past).
type AgentRestoreJob struct {
	ID           string      `json:"id"`
	BatchID      string      `json:"batchId"`
	CheckpointID string      `json:"checkpointId"`
	ClusterName  string      `json:"clusterName"`
	Owner        string      `json:"owner"`
	StatusName   string      `json:"statusName"`
	OplogLimit   string      `json:"oplogLimit"`
	Part         RestorePart `json:"part"`
	Timestamp    Timestamp   `json:"timestamp"`
}

// ClaimRestoreJob asks checkpointd for the next restore job of an agent's
// cluster (by name) for owner: the one owner claimed and has not
// reported, else the oldest unclaimed; nil when there is none.
func (c *Client) ClaimRestoreJob(ctx context.Context, project, cluster, owner string) (*AgentRestoreJob, error) {
	req, err := json.Marshal(map[string]string{"owner": owner})
	if err != nil {
		return nil, err
	}
	status, body, err := c.do(ctx, http.MethodPost, adminClusterPath(project, cluster)+"/restoreJobs/claim", nil, req)
	if err != nil || status == http.StatusNoContent {
		return nil, err
	}
	var j AgentRestoreJob
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, fmt.Errorf("%s: the server's answer is not a restore job: %w", c.base, err)
	}
	return &j, nil
}

// ReportRestoreJob tells checkpointd how a restore job owner claimed
// ended: FINISHED, BROKEN or KILLED.
func (c *Client) ReportRestoreJob(ctx context.Context, project, cluster, id, owner, status string) error {
	req, err := json.Marshal(map[string]string{"owner": owner, "statusName": status})
	if err != nil {
		return err
	}
	_, _, err = c.do(ctx, http.MethodPatch, adminClusterPath(project, cluster)+"/restoreJobs/"+url.PathEscape(id), nil, req)
	return err
}
