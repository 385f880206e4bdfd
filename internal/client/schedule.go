package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Schedule is a cluster's legacy snapshot schedule, as every generation
// answers it: ClusterCheckpointIntervalMin is nil while checkpoints are
// off (the field is left out then). The Cloud Manager fields are zero
// elsewhere.
type Schedule struct {
	ClusterCheckpointIntervalMin   *int   `json:"clusterCheckpointIntervalMin"`
	ClusterID                      string `json:"clusterId"`
	GroupID                        string `json:"groupId"`
	PointInTimeWindowHours         int    `json:"pointInTimeWindowHours"`
	SnapshotIntervalHours          int    `json:"snapshotIntervalHours"`
	SnapshotRetentionDays          int    `json:"snapshotRetentionDays"`
	DailySnapshotRetentionDays     int    `json:"dailySnapshotRetentionDays"`
	WeeklySnapshotRetentionWeeks   int    `json:"weeklySnapshotRetentionWeeks"`
	MonthlySnapshotRetentionMonths int    `json:"monthlySnapshotRetentionMonths"`
	FullIncrementalDayOfWeek       string `json:"fullIncrementalDayOfWeek"`
}

// schedulePath is the path of a cluster's snapshot schedule: under the
// cluster by name on Atlas, under its backup configuration by id on
// Cloud Manager.
func (c *Client) schedulePath(project, cluster string) string {
	p, cl := url.PathEscape(project), url.PathEscape(cluster)
	switch c.api {
	case AtlasV1:
		return "/api/atlas/v1.0/groups/" + p + "/clusters/" + cl + "/snapshotSchedule"
	case CloudManager:
		return "/api/public/v1.0/groups/" + p + "/backupConfigs/" + cl + "/snapshotSchedule"
	}
	return "/api/atlas/v2/groups/" + p + "/clusters/" + cl + "/snapshotSchedule"
}

// GetSchedule reads a cluster's snapshot schedule and returns it with its
// JSON as the server sent it.
func (c *Client) GetSchedule(ctx context.Context, project, cluster string) (*Schedule, json.RawMessage, error) {
	body, err := c.get(ctx, c.schedulePath(project, cluster), nil)
	if err != nil {
		return nil, nil, err
	}
	return c.schedule(body)
}

// UpdateSchedule changes the fields of a cluster's snapshot schedule that
// change names, by their JSON names (clusterCheckpointIntervalMin 0 turns
// checkpoints off), and returns the schedule as changed.
func (c *Client) UpdateSchedule(ctx context.Context, project, cluster string, change map[string]int) (*Schedule, json.RawMessage, error) {
	b, err := json.Marshal(change)
	if err != nil {
		return nil, nil, err
	}
	_, body, err := c.do(ctx, http.MethodPatch, c.schedulePath(project, cluster), nil, b)
	if err != nil {
		return nil, nil, err
	}
	return c.schedule(body)
}

func (c *Client) schedule(body []byte) (*Schedule, json.RawMessage, error) {
	var s Schedule
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, nil, fmt.Errorf("%s: the server's answer is not a snapshot schedule: %w", c.base, err)
	}
	return &s, body, nil
}
