// Package store documents what checkpointd keeps and how; the stores
// themselves live in its subpackages (sqlite, postgres) and are held to one
// contract by storetest. Checkpoints are immutable once stored, so stores
// may cache what they read (internal/store/cache is the shared, SQL-free
// cache), as long as every read still checks the database for what
// changed.
package store
