package engine

import (
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Outcome is what became of one scheduled slot.
type Outcome string

// The outcomes of a slot this instance claimed.
const (
	// OutcomeRestorable: a restorable checkpoint was stored.
	OutcomeRestorable Outcome = "restorable"
	// OutcomeNotRestorable: a checkpoint was stored, but a token was not
	// found in every part, so a restore cannot target it.
	OutcomeNotRestorable Outcome = "not_restorable"
	// OutcomeSkipped: no checkpoint was taken: the balancer would not
	// stop, a step failed or timed out, or claiming the slot failed.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeNotStored: a checkpoint was taken but the store refused it.
	OutcomeNotStored Outcome = "not_stored"
)

// Observer learns the outcome of every slot this instance claimed (and of
// those whose claim failed), for metrics. Slots another instance took are
// not reported: that instance reports them. It is called from every
// cluster's goroutine at once, so it must be safe for concurrent use, and
// it should return quickly: the cluster's next slot waits for it.
type Observer interface {
	// SlotDone reports a slot's outcome and how long it took on the
	// scheduler's clock, from the claim to the checkpoint stored (pruning
	// excluded).
	SlotDone(c backup.Cluster, outcome Outcome, took time.Duration)
}

// observe reports a slot that began at start to the configured Observer,
// if any.
func (s *Scheduler) observe(c backup.Cluster, o Outcome, start time.Time) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.SlotDone(c, o, s.cfg.Clock.Now().Sub(start))
	}
}

// slotOutcome is the outcome of a slot that took cp (zero when none was
// taken) and stored it with storeErr.
func slotOutcome(cp backup.Checkpoint, storeErr error) Outcome {
	switch {
	case cp.ID.IsZero():
		return OutcomeSkipped
	case storeErr != nil:
		return OutcomeNotStored
	case cp.Restorable:
		return OutcomeRestorable
	}
	return OutcomeNotRestorable
}
