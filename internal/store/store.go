// Package store documents what checkpointd keeps and how; the stores
// themselves live in its subpackages (sqlite, postgres) and are held to one
// contract by storetest.
package store
