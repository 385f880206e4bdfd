package postgres

// SnapshotReads is how many snapshot reads the store's gate has made
// (benchmarks report it per request).
func SnapshotReads(db *DB) int64 {
	if db.heads == nil {
		return 0
	}
	return db.heads.gate.reads.Load()
}
