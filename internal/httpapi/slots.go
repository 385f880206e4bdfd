package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/atlas"
)

// SlotAdmin reads a cluster's slot records and stores a backup agent's,
// for the administration API, with the operations of internal/admin (the
// command line's too: admin.Clusters).
type SlotAdmin interface {
	ListSlots(ctx context.Context, ref backup.ClusterRef, f backup.SlotFilter, page backup.PageRequest) (backup.Page[backup.Slot], error)
	CheckpointSlot(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.Slot, error)
	ReportSlot(ctx context.Context, c backup.Cluster, s backup.Slot) (backup.Slot, error)
}

var (
	opAdminListSlots      = &operation{name: "adminListSlots"}
	opAdminReportSlot     = &operation{name: "adminReportSlot"}
	opAdminCheckpointSlot = &operation{name: "adminGetCheckpointSlot"}
	opAdminGetCheckpoint  = &operation{name: "adminGetCheckpoint"}
)

// AdminSlot is a slot record as the administration API shows it, keys in
// alphabetical order. The command line prints records the same way,
// without Links.
type AdminSlot struct {
	CheckpointID string          `json:"checkpointId,omitempty"`
	ClusterID    string          `json:"clusterId"`
	ClusterName  string          `json:"clusterName"`
	Detail       string          `json:"detail,omitempty"`
	GroupID      string          `json:"groupId"`
	Links        []linkJSON      `json:"links,omitempty"`
	Outcome      string          `json:"outcome"`
	Part         string          `json:"part,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	Recorded     string          `json:"recorded"`
	Slot         string          `json:"slot"`
	Source       string          `json:"source"`
	Steps        []AdminSlotStep `json:"steps"`
}

// AdminSlotStep is one step of a slot.
type AdminSlotStep struct {
	At   string `json:"at"`
	Part string `json:"part,omitempty"`
	Step string `json:"step"`
}

// NewAdminSlot is s as the administration API shows it, without links.
func NewAdminSlot(s *backup.Slot) AdminSlot {
	out := AdminSlot{ClusterID: s.ClusterID.Hex(), ClusterName: s.ClusterName, Detail: s.Detail, GroupID: s.GroupID.Hex(),
		Outcome: string(s.Outcome), Part: s.Part, Reason: string(s.Reason), Recorded: formatTime(s.Recorded),
		Slot: formatTime(s.Time), Source: string(s.Source), Steps: []AdminSlotStep{}}
	if !s.CheckpointID.IsZero() {
		out.CheckpointID = s.CheckpointID.Hex()
	}
	for _, st := range s.Steps {
		out.Steps = append(out.Steps, AdminSlotStep{At: formatTime(st.At), Part: st.Part, Step: string(st.Kind)})
	}
	return out
}

func appendAdminSlot(b []byte, base string, s *backup.Slot) []byte {
	out := NewAdminSlot(s)
	if !s.CheckpointID.IsZero() {
		out.Links = []linkJSON{{Href: base + adminSurface.groups + "/" + s.GroupID.Hex() + "/clusters/" + s.ClusterName +
			"/checkpoints/" + s.CheckpointID.Hex(), Rel: "checkpoint"}}
	}
	j, err := json.Marshal(out)
	if err != nil { // plain strings: cannot fail
		panic(err)
	}
	return append(b, j...)
}

// adminListSlots lists a cluster's slot records, newest first, filtered
// by outcome (repeated, or a comma-separated list) and time range (from
// inclusive, to exclusive), paged as the service's lists are.
//
//	GET /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/slots
func adminListSlots(s *Server, rq *request) (result, error) {
	p, err := s.adminProject(rq, checkRead)
	if err != nil {
		return result{}, err
	}
	page, err := rq.query.page(s.cfg.Paging)
	if err != nil {
		return result{}, err
	}
	if rq.envelope, err = rq.query.boolParam("envelope", false); err != nil {
		return result{}, err
	}
	var outcomes []string
	for _, q := range rq.query {
		if q.key == "outcome" {
			outcomes = append(outcomes, q.value)
		}
	}
	from, _ := rq.query.get("from")
	to, _ := rq.query.get("to")
	f, err := backup.ParseSlotFilter(outcomes, from, to)
	if err != nil {
		return result{}, err
	}
	ref := backup.ClusterRef{GroupID: p.ID, Name: rq.PathValue("cluster")}
	sl, err := s.cfg.ClusterAdmin.ListSlots(rq.Context(), ref, f, page)
	if err != nil {
		return result{}, err
	}
	return rq.list(page, sl.Total, len(sl.Items), func(b []byte, i int) []byte {
		return appendAdminSlot(b, rq.base, &sl.Items[i])
	}), nil
}

// adminCheckpointSlot returns the record of the slot that stored a
// checkpoint: its steps and, for one not restorable, why.
//
//	GET /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/checkpoints/{checkpointId}/slot
func adminCheckpointSlot(s *Server, rq *request) (result, error) {
	p, err := s.adminProject(rq, checkRead)
	if err != nil {
		return result{}, err
	}
	id, err := pathID(rq, "checkpointId", backup.ErrInvalidCheckpointID)
	if err != nil {
		return result{}, err
	}
	sl, err := s.cfg.ClusterAdmin.CheckpointSlot(rq.Context(), backup.ClusterRef{GroupID: p.ID, Name: rq.PathValue("cluster")}, id)
	if err != nil {
		return result{}, err
	}
	return result{body: appendAdminSlot(rq.buf[:0], rq.base, &sl)}, nil
}

// adminGetCheckpoint returns one checkpoint as the Atlas Administration
// API v2 shows it, and, when it is not restorable, why
// (notRestorableReason): its slot record's reason, part and sentence, or,
// for a checkpoint without a record, the parts whose token is missing.
// The three public generations show no such field: their bodies are the
// service's.
//
//	GET /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/checkpoints/{checkpointId}
func adminGetCheckpoint(s *Server, rq *request) (result, error) {
	c, err := s.adminCluster(rq, checkRead)
	if err != nil {
		return result{}, err
	}
	id, err := pathID(rq, "checkpointId", backup.ErrInvalidCheckpointID)
	if err != nil {
		return result{}, err
	}
	ref := backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}
	cp, err := s.cfg.Admin.Checkpoint(rq.Context(), ref, id)
	if err != nil {
		return result{}, err
	}
	coll := atlasV2.groups + "/" + c.GroupID.Hex() + "/clusters/" + c.Name + "/" + atlasV2.checkpoints
	b := atlas.AppendCheckpoint(rq.buf[:0], rq.base, coll, &cp)
	if cp.Restorable {
		return result{body: b}, nil
	}
	why, err := s.notRestorable(rq, ref, &cp)
	if err != nil {
		return result{}, err
	}
	j, err := json.Marshal(why)
	if err != nil { // plain strings: cannot fail
		panic(err)
	}
	// The checkpoint's object, closed by its last byte, gains the field.
	b = append(append(append(b[:len(b)-1], `,"notRestorableReason":`...), j...), '}')
	return result{body: b}, nil
}

// NotRestorableReason is why a checkpoint is not restorable, as the
// administration API and the command line show it.
type NotRestorableReason struct {
	Detail string `json:"detail"`
	Part   string `json:"part,omitempty"`
	Reason string `json:"reason"`
}

// NewNotRestorableReason is why cp is not restorable: what its slot's
// record says (sl, nil when it has none), else which parts lack their
// token.
func NewNotRestorableReason(cp *backup.Checkpoint, sl *backup.Slot) NotRestorableReason {
	if sl != nil && sl.Reason != "" && sl.Outcome == backup.SlotNotRestorable {
		return NotRestorableReason{Detail: sl.Detail, Part: sl.Part, Reason: string(sl.Reason)}
	}
	r, d, part := backup.NotRestorableReason(cp)
	return NotRestorableReason{Detail: d, Part: part, Reason: string(r)}
}

func (s *Server) notRestorable(rq *request, ref backup.ClusterRef, cp *backup.Checkpoint) (NotRestorableReason, error) {
	sl, err := s.cfg.ClusterAdmin.CheckpointSlot(rq.Context(), ref, cp.ID)
	switch {
	case err == nil:
		return NewNotRestorableReason(cp, &sl), nil
	case backup.IsCode(err, backup.CodeSlotNotFound):
		return NewNotRestorableReason(cp, nil), nil
	}
	return NotRestorableReason{}, err
}

// adminReportSlot stores a backup agent's record of one slot of its
// cluster: what became of it, its steps and why, with or without a
// checkpoint (reported before through .../checkpoints). 201 when stored,
// 200 for the same record again (a retry), 409 DUPLICATE_SLOT for another
// record of a slot that has one.
//
//	PUT /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/slots/{slot}
func adminReportSlot(s *Server, rq *request) (result, error) {
	var in slotReportJSON
	c, err := adminBody(rq, &in, func() (backup.Cluster, error) {
		c, err := s.adminCluster(rq, checkReporter)
		if err == nil {
			err = c.AcceptsReports()
		}
		return c, err
	})
	if err != nil {
		return result{}, err
	}
	slot, err := parseReportTime(rq.PathValue("slot"))
	if err != nil {
		return result{}, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s", "slot", err.Error())
	}
	rec, err := in.slot(slot)
	if err != nil {
		return result{}, err
	}
	ref := backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}
	status := http.StatusCreated
	p, err := s.cfg.ClusterAdmin.ListSlots(rq.Context(), ref, backup.SlotFilter{From: slot, To: slot.Add(time.Second)}, backup.PageRequest{Num: 1, Size: 1})
	if err != nil {
		return result{}, err
	}
	if len(p.Items) == 1 && p.Items[0].Outcome != backup.SlotMissed {
		status = http.StatusOK
	}
	if rec, err = s.cfg.ClusterAdmin.ReportSlot(rq.Context(), c, rec); err != nil {
		return result{}, err
	}
	if status == http.StatusOK {
		// A retry: answer with the record as first stored.
		if p, err = s.cfg.ClusterAdmin.ListSlots(rq.Context(), ref, backup.SlotFilter{From: slot, To: slot.Add(time.Second)}, backup.PageRequest{Num: 1, Size: 1}); err != nil {
			return result{}, err
		}
		rec = p.Items[0]
	}
	return result{status: status, body: appendAdminSlot(rq.buf[:0], rq.base, &rec)}, nil
}

// slotReportJSON is a slot record as a backup agent reports it.
type slotReportJSON struct {
	CheckpointID *string         `json:"checkpointId,omitempty"`
	Detail       *string         `json:"detail,omitempty"`
	Outcome      *string         `json:"outcome"`
	Part         *string         `json:"part,omitempty"`
	Reason       *string         `json:"reason,omitempty"`
	Steps        []AdminSlotStep `json:"steps,omitempty"`
}

// slot is the report as a record of the slot at t, checked for what JSON
// can get wrong (the rest is backup.Slot.Validate's, in the store).
func (in *slotReportJSON) slot(t time.Time) (backup.Slot, error) {
	s := backup.Slot{Time: t}
	if in.Outcome == nil {
		return s, backup.ErrInvalidAttribute("outcome", "a slot report names its outcome")
	}
	s.Outcome = backup.SlotOutcome(*in.Outcome)
	if !s.Outcome.Valid() {
		return s, backup.ErrInvalidAttribute("outcome", "it is one of TAKEN, NOT_RESTORABLE, SKIPPED, FAILED")
	}
	if in.CheckpointID != nil {
		id, ok := backup.ParseObjectID(*in.CheckpointID)
		if !ok {
			return s, backup.ErrInvalidAttribute("checkpointId", "it is not 24 hexadecimal digits")
		}
		s.CheckpointID = id
	}
	for _, p := range []struct {
		dst *string
		src *string
	}{{&s.Detail, in.Detail}, {&s.Part, in.Part}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	if in.Reason != nil {
		s.Reason = backup.SlotReason(*in.Reason)
	}
	for i, st := range in.Steps {
		at, err := parseReportTime(st.At)
		if err != nil {
			return s, backup.ErrInvalidAttribute("steps", "step "+strconv.Itoa(i)+"'s at: "+err.Error())
		}
		s.Steps = append(s.Steps, backup.SlotStep{Kind: backup.SlotStepKind(st.Step), At: at, Part: st.Part})
	}
	// The ids are the server's; Validate wants them to check the rest.
	v := s
	v.ClusterID, v.GroupID = backup.ObjectID{1}, backup.ObjectID{1}
	return s, v.Validate()
}
