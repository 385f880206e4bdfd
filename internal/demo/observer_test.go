package demo_test

import (
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// outcomes is an engine.Observer that counts the outcomes it is told of.
type outcomes struct {
	mu sync.Mutex
	n  map[engine.Outcome]int
}

func (o *outcomes) SlotDone(_ backup.Cluster, outcome engine.Outcome, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[engine.Outcome]int{}
	}
	o.n[outcome]++
}

// stored is how many slots ended with a checkpoint stored.
func (o *outcomes) stored() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[engine.OutcomeRestorable] + o.n[engine.OutcomeNotRestorable]
}
