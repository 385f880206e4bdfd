package backup

import (
	"fmt"
	"strings"
	"time"
)

// SlotOutcome is what became of one scheduled checkpoint slot of a
// cluster.
type SlotOutcome string

// The outcomes of a slot, as the administration API prints them.
const (
	// SlotTaken: a restorable checkpoint of the slot was stored.
	SlotTaken SlotOutcome = "TAKEN"
	// SlotNotRestorable: a checkpoint was stored, but a token was not
	// found in every part, so a restore cannot target it.
	SlotNotRestorable SlotOutcome = "NOT_RESTORABLE"
	// SlotSkipped: the procedure chose not to take a checkpoint (the
	// balancer would not stop: a checkpoint then would cut the cluster
	// while a chunk migrates).
	SlotSkipped SlotOutcome = "SKIPPED"
	// SlotFailed: the procedure ran and failed: a checkpoint was taken
	// but not stored, claiming the slot failed, or it was abandoned.
	SlotFailed SlotOutcome = "FAILED"
	// SlotMissed: the slot's time passed and nothing ran it (no instance
	// of the server, no agent).
	SlotMissed SlotOutcome = "MISSED"
)

// SlotOutcomes are every outcome, in the order the API documents them.
var SlotOutcomes = []SlotOutcome{SlotTaken, SlotNotRestorable, SlotSkipped, SlotFailed, SlotMissed}

// Valid reports whether o is one of SlotOutcomes.
func (o SlotOutcome) Valid() bool {
	for _, v := range SlotOutcomes {
		if o == v {
			return true
		}
	}
	return false
}

// SlotReason is the machine-readable reason of a slot that was not a
// clean success; the record's Detail says it in a sentence.
type SlotReason string

// Reasons.
const (
	// ReasonBalancerNotStopped: the balancer would not stop within the
	// stop timeout (a migration outlasted it).
	ReasonBalancerNotStopped SlotReason = "BALANCER_NOT_STOPPED"
	// ReasonBalancerStopFailed: stopping the balancer failed outright
	// (the config server or mongos could not be reached).
	ReasonBalancerStopFailed SlotReason = "BALANCER_STOP_FAILED"
	// ReasonPartUnreachable: a part's token could not be written: the
	// shard or config server was unreachable.
	ReasonPartUnreachable SlotReason = "PART_UNREACHABLE"
	// ReasonTokenNotDiscovered: a part's token was written but did not
	// show up in its oplog within the discovery wait.
	ReasonTokenNotDiscovered SlotReason = "TOKEN_NOT_DISCOVERED"
	// ReasonBalancerNotRestarted: the checkpoint was taken, but the
	// balancer could not be restarted afterwards.
	ReasonBalancerNotRestarted SlotReason = "BALANCER_NOT_RESTARTED"
	// ReasonNotStored: the checkpoint was taken but the store refused it
	// or was unreachable.
	ReasonNotStored SlotReason = "NOT_STORED"
	// ReasonClaimFailed: claiming the slot failed (the store was
	// unreachable), so no instance took it.
	ReasonClaimFailed SlotReason = "CLAIM_FAILED"
	// ReasonAbandoned: the procedure was cut short (the server or agent
	// was stopping).
	ReasonAbandoned SlotReason = "ABANDONED"
	// ReasonStepFailed: a step failed for another reason.
	ReasonStepFailed SlotReason = "STEP_FAILED"
	// ReasonAgentNotRunning: the slot of a cluster whose checkpoints an
	// agent takes passed with no report from any agent.
	ReasonAgentNotRunning SlotReason = "AGENT_NOT_RUNNING"
	// ReasonNoInstance: the slot of a cluster whose checkpoints the
	// server takes passed with no instance of the server running it.
	ReasonNoInstance SlotReason = "NO_INSTANCE_RAN"
)

// SlotStepKind names a step of the checkpoint procedure.
type SlotStepKind string

// Steps, in the order the procedure takes them.
const (
	StepBalancerStopRequested SlotStepKind = "BALANCER_STOP_REQUESTED"
	StepBalancerStopped       SlotStepKind = "BALANCER_STOPPED"
	StepTokenWritten          SlotStepKind = "TOKEN_WRITTEN"
	StepTokenDiscovered       SlotStepKind = "TOKEN_DISCOVERED"
	StepBalancerRestarted     SlotStepKind = "BALANCER_RESTARTED"
	StepReported              SlotStepKind = "REPORTED"
)

var stepKinds = []SlotStepKind{StepBalancerStopRequested, StepBalancerStopped, StepTokenWritten,
	StepTokenDiscovered, StepBalancerRestarted, StepReported}

// SlotStep is one step of a slot's procedure and when it happened. Part
// names the member the step was about (a shard's name, or "config") for
// the per-part steps, token written and token discovered.
type SlotStep struct {
	Kind SlotStepKind
	At   time.Time
	Part string
}

// SlotSource says who recorded a slot.
type SlotSource string

// Sources.
const (
	SourceEngine SlotSource = "ENGINE" // the server's checkpoint engine
	SourceAgent  SlotSource = "AGENT"  // a backup agent's report
	SourceSweep  SlotSource = "SWEEP"  // the server's sweep of missed slots
)

// Slot is the record of one scheduled slot of a cluster: what became of
// it, the steps it went through and, for anything but TAKEN, why. A
// cluster has at most one record per slot time.
type Slot struct {
	ClusterID ObjectID
	GroupID   ObjectID
	// ClusterName is filled by stores when they read a record.
	ClusterName string
	// Time is the slot's scheduled time: a checkpoint of the slot has it
	// as its Timestamp. Whole seconds, UTC.
	Time    time.Time
	Outcome SlotOutcome
	// CheckpointID is the checkpoint the slot stored; zero when none
	// (SKIPPED, FAILED, MISSED).
	CheckpointID ObjectID
	// Reason and Detail say why a slot is not TAKEN: a code for machines
	// and a sentence for people. Part names the part at fault, when one
	// is.
	Reason SlotReason
	Detail string
	Part   string
	Steps  []SlotStep
	Source SlotSource
	// Recorded is when the record was written.
	Recorded time.Time
}

// Limits of a slot record's text, so that a report cannot bloat the
// store.
const (
	MaxSlotDetailLen = 1000
	MaxSlotSteps     = 64
	MaxSlotPartLen   = 200
)

// Validate checks a slot record: its ids, outcome, reason (required for
// anything but TAKEN), steps and text lengths; each error names the
// attribute at fault, as the ingestion body names it.
func (s *Slot) Validate() error {
	switch {
	case s.ClusterID.IsZero():
		return AttrErrorf("clusterId", CodeInvalidAttribute, "Invalid attribute %s specified: a slot names its cluster.", "clusterId")
	case s.GroupID.IsZero():
		return AttrErrorf("groupId", CodeInvalidAttribute, "Invalid attribute %s specified: a slot names its project.", "groupId")
	case s.Time.IsZero() || s.Time.Nanosecond() != 0:
		return AttrErrorf("slot", CodeInvalidAttribute, "Invalid attribute %s specified: a slot is a time in whole seconds.", "slot")
	case !s.Outcome.Valid():
		return AttrErrorf("outcome", CodeInvalidAttribute, "Invalid attribute %s specified: %s is not one of %s.",
			"outcome", quoteEmpty(string(s.Outcome)), outcomeList())
	case s.Outcome != SlotTaken && s.Reason == "":
		return AttrErrorf("reason", CodeInvalidAttribute, "Invalid attribute %s specified: a %s slot needs a reason.", "reason", string(s.Outcome))
	case len(s.Reason) > 64 || !reasonPattern(string(s.Reason)):
		return AttrErrorf("reason", CodeInvalidAttribute, "Invalid attribute %s specified: a reason is up to 64 capital letters, digits and underscores.", "reason")
	case len(s.Detail) > MaxSlotDetailLen || hasControl(s.Detail):
		return AttrErrorf("detail", CodeInvalidAttribute, "Invalid attribute %s specified: a detail is up to %d characters without control characters.", "detail", MaxSlotDetailLen)
	case len(s.Part) > MaxSlotPartLen || hasControl(s.Part):
		return AttrErrorf("part", CodeInvalidAttribute, "Invalid attribute %s specified: a part is up to %d characters without control characters.", "part", MaxSlotPartLen)
	case len(s.Steps) > MaxSlotSteps:
		return AttrErrorf("steps", CodeInvalidAttribute, "Invalid attribute %s specified: a slot has at most %d steps.", "steps", MaxSlotSteps)
	}
	hasCheckpoint := s.Outcome == SlotTaken || s.Outcome == SlotNotRestorable
	if hasCheckpoint != !s.CheckpointID.IsZero() {
		return AttrErrorf("checkpointId", CodeInvalidAttribute,
			"Invalid attribute %s specified: a slot names its checkpoint exactly when it is %s or %s.", "checkpointId", SlotTaken, SlotNotRestorable)
	}
	for _, st := range s.Steps {
		known := false
		for _, k := range stepKinds {
			known = known || st.Kind == k
		}
		switch {
		case !known:
			return AttrErrorf("steps", CodeInvalidAttribute, "Invalid attribute %s specified: unknown step %s.", "steps", quoteEmpty(string(st.Kind)))
		case st.At.IsZero():
			return AttrErrorf("steps", CodeInvalidAttribute, "Invalid attribute %s specified: step %s has no time.", "steps", string(st.Kind))
		case len(st.Part) > MaxSlotPartLen || hasControl(st.Part):
			return AttrErrorf("steps", CodeInvalidAttribute, "Invalid attribute %s specified: a step's part is up to %d characters without control characters.", "steps", MaxSlotPartLen)
		}
	}
	return nil
}

func outcomeList() string {
	var b strings.Builder
	for i, o := range SlotOutcomes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(o))
	}
	return b.String()
}

func reasonPattern(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// ParseSlotOutcomes parses outcome filters as the API takes them: each
// value one outcome or a comma-separated list of them, case-insensitive;
// duplicates are dropped. An unknown outcome is INVALID_QUERY_PARAMETER
// naming the parameter.
func ParseSlotOutcomes(param string, values []string) ([]SlotOutcome, error) {
	var out []SlotOutcome
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			o := SlotOutcome(strings.ToUpper(strings.TrimSpace(f)))
			if !o.Valid() {
				return nil, Errorf(Invalid, CodeInvalidQueryParameter,
					"Invalid query parameter %s specified: %s is not a slot outcome (%s).", param, quoteEmpty(f), outcomeList())
			}
			dup := false
			for _, have := range out {
				dup = dup || have == o
			}
			if !dup {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// SlotFilter selects slot records: those with one of Outcomes (every
// outcome when empty) whose Time is at or after From and before To (no
// bound when zero).
type SlotFilter struct {
	Outcomes []SlotOutcome
	From, To time.Time
}

// Match reports whether s passes f.
func (f SlotFilter) Match(s Slot) bool {
	if !f.From.IsZero() && s.Time.Before(f.From) || !f.To.IsZero() && !s.Time.Before(f.To) {
		return false
	}
	if len(f.Outcomes) == 0 {
		return true
	}
	for _, o := range f.Outcomes {
		if s.Outcome == o {
			return true
		}
	}
	return false
}

// ParseSlotFilter parses a slot list's filter as the administration API's
// query (outcome, from, to) and the command line's flags take it:
// outcomes each one or a comma-separated list of TAKEN, NOT_RESTORABLE,
// SKIPPED, FAILED, MISSED (any case); from and to RFC 3339 (ISO 8601)
// times, from inclusive and to exclusive, empty for no bound. Errors are
// INVALID_QUERY_PARAMETER naming the parameter, and saying what is wrong.
func ParseSlotFilter(outcomes []string, from, to string) (SlotFilter, error) {
	var f SlotFilter
	var err error
	if f.Outcomes, err = ParseSlotOutcomes("outcome", outcomes); err != nil {
		return f, err
	}
	for _, b := range []struct {
		name, raw string
		dst       *time.Time
	}{{"from", from, &f.From}, {"to", to, &f.To}} {
		if b.raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, b.raw)
		if err != nil {
			return f, Errorf(Invalid, CodeInvalidQueryParameter,
				"Invalid query parameter %s specified: %s is not an ISO 8601 date and time such as 2026-01-05T10:00:00Z.", b.name, b.raw)
		}
		*b.dst = t.UTC()
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, Errorf(Invalid, CodeInvalidQueryParameter,
			"Invalid query parameter %s specified: %s is not after from (%s).", "to", to, from)
	}
	return f, nil
}

// SlotCounts is how many slot records of a cluster have each outcome.
type SlotCounts map[SlotOutcome]int

// Total is the number of records counted.
func (c SlotCounts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// CodeSlotNotFound answers for a checkpoint without a slot record (one
// reported before slots were recorded, or by an agent that reports none).
const CodeSlotNotFound = "SLOT_NOT_FOUND"

// CodeDuplicateSlot answers a second, different record of a slot.
const CodeDuplicateSlot = "DUPLICATE_SLOT"

// ErrSlotNotFound is the answer for a checkpoint whose slot has no record.
func ErrSlotNotFound(checkpointID string) *Error {
	return Errorf(NotFound, CodeSlotNotFound, "No slot record exists for checkpoint %s.", checkpointID)
}

// ErrDuplicateSlot is the answer for a record of a slot that has another.
func ErrDuplicateSlot(clusterID string, slot time.Time) *Error {
	return Errorf(Conflict, CodeDuplicateSlot, "Slot %s of cluster %s already has a record.", slot.UTC().Format(time.RFC3339), clusterID)
}

// NotRestorableReason says, for a checkpoint that is not restorable, which
// parts lack their token, as the reason the administration API shows when
// no slot record says more.
func NotRestorableReason(cp *Checkpoint) (SlotReason, string, string) {
	if cp.Restorable {
		return "", "", ""
	}
	var missing []string
	for _, p := range cp.Parts {
		if !p.TokenDiscovered {
			missing = append(missing, PartLabel(p))
		}
	}
	if len(missing) == 0 {
		return ReasonStepFailed, "the checkpoint is marked not restorable", ""
	}
	return ReasonTokenNotDiscovered, fmt.Sprintf("token on %s not discovered", strings.Join(missing, ", ")), missing[0]
}

// PartLabel names a part as slot records do: its shard name, or "config"
// (with the host id of a mirrored config server).
func PartLabel(p Part) string {
	switch {
	case p.ShardName != "":
		return p.ShardName
	case p.HostID != "":
		return "config " + p.HostID
	}
	return "config"
}
