package shape

import (
	"slices"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Kinds of the rows a RestorableHistory statement returns, in both
// stores: the newest restorable timestamp before the range, one in the
// range, the newest of all.
const (
	RestorableBefore int64 = iota
	RestorableIn
	RestorableNewest
)

// AddRestorable adds one row of a RestorableHistory statement to h. Rows
// in the range are kept sorted, whatever order the statement returned
// them in.
func AddRestorable(h *backup.RestorableHistory, kind int64, ts time.Time) {
	switch kind {
	case RestorableBefore:
		h.Before = ts
	case RestorableIn:
		if n := len(h.In); n > 0 && ts.Before(h.In[n-1]) {
			i, _ := slices.BinarySearchFunc(h.In, ts, func(a, b time.Time) int { return a.Compare(b) })
			h.In = slices.Insert(h.In, i, ts)
			return
		}
		h.In = append(h.In, ts)
	case RestorableNewest:
		h.Newest = ts
	}
}
