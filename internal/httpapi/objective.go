package httpapi

import (
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

var opAdminObjective = &operation{name: "adminObjective"}

// adminObjective measures a cluster's recovery point objective over a
// range (?from=&to=, RFC 3339; the week before now by default): its
// exposure now, the worst gap between restore points, the share of its
// slots that left a restorable checkpoint and the stretches that missed
// the objective (admin.Objective, as the command line's rpo). Project
// Read Only may read it.
//
//	GET /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/rpo
func adminObjective(s *Server, rq *request) (result, error) {
	c, err := s.adminCluster(rq, checkRead)
	if err != nil {
		return result{}, err
	}
	from, _ := rq.query.get("from")
	to, _ := rq.query.get("to")
	c, r, err := s.cfg.ClusterAdmin.Objective(rq.Context(), backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}, from, to)
	if err != nil {
		return result{}, err
	}
	out := NewAdminObjective(&c, &r)
	out.Links = []linkJSON{{Href: rq.base + adminClusterPath(&c) + "/rpo", Rel: "self"}}
	return jsonResult(rq, out)
}

// AdminObjective is an objective report (backup.ObjectiveReport) as the
// administration API shows it, keys in alphabetical order. The command
// line's rpo -o json prints it, without links. Durations are whole
// seconds; what does not exist is null: the exposure and newest restore
// point of a cluster that has none, the objective and whether it is met
// for a cluster that declares none, the ratio of a range without slots.
type AdminObjective struct {
	ClusterID        string        `json:"clusterId"`
	ClusterName      string        `json:"clusterName"`
	ExposureSeconds  *int64        `json:"exposureSeconds"`
	From             string        `json:"from"`
	GroupID          string        `json:"groupId"`
	Links            []linkJSON    `json:"links,omitempty"`
	Missed           []AdminSpan   `json:"missed"`
	NewestRestorable *string       `json:"newestRestorable"`
	Now              string        `json:"now"`
	ObjectiveMet     *bool         `json:"objectiveMet"`
	ObjectiveMin     *int          `json:"recoveryPointObjectiveMin"`
	Slots            AdminSlotRate `json:"slots"`
	To               string        `json:"to"`
	WorstGap         *AdminSpan    `json:"worstGap"`
}

// AdminSpan is a stretch of time and its length.
type AdminSpan struct {
	End     string `json:"end"`
	Seconds int64  `json:"seconds"`
	Start   string `json:"start"`
}

// AdminSlotRate counts a range's slots and those that left a restorable
// checkpoint, from the cluster's slot records (RECORDS) or, for a range
// without any, its checkpoint interval's grid (SCHEDULE).
type AdminSlotRate struct {
	Ratio      *float64 `json:"ratio"`
	Restorable int      `json:"restorable"`
	Source     string   `json:"source"`
	Total      int      `json:"total"`
}

func spanOf(s backup.Span) AdminSpan {
	return AdminSpan{Start: formatTime(s.Start), End: formatTime(s.End), Seconds: int64(s.Length() / time.Second)}
}

// NewAdminObjective is r, c's report, as the administration API shows it,
// without links.
func NewAdminObjective(c *backup.Cluster, r *backup.ObjectiveReport) AdminObjective {
	out := AdminObjective{ClusterID: c.ID.Hex(), ClusterName: c.Name, GroupID: c.GroupID.Hex(),
		From: formatTime(r.From), To: formatTime(r.To), Now: formatTime(r.Now), Missed: []AdminSpan{},
		Slots: AdminSlotRate{Restorable: r.Slots.Restorable, Total: r.Slots.Total, Source: "SCHEDULE"}}
	if r.Slots.Recorded {
		out.Slots.Source = "RECORDS"
	}
	if !r.Newest.IsZero() {
		ts, exp := formatTime(r.Newest), int64(r.Exposure/time.Second)
		out.NewestRestorable, out.ExposureSeconds = &ts, &exp
	}
	if r.Objective > 0 {
		m, met := int(r.Objective/time.Minute), r.Met()
		out.ObjectiveMin, out.ObjectiveMet = &m, &met
	}
	if ratio, ok := r.SlotRatio(); ok {
		out.Slots.Ratio = &ratio
	}
	if r.WorstGap.Length() > 0 {
		g := spanOf(r.WorstGap)
		out.WorstGap = &g
	}
	for _, s := range r.Missed {
		out.Missed = append(out.Missed, spanOf(s))
	}
	return out
}
