package engine

import "time"

// second drops the sub-second part of t: the API prints times to the
// second, an ObjectID holds whole seconds, and an oplog timestamp counts
// seconds, so every time the engine records is a whole second in UTC.
func second(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
