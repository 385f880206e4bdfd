// Package backup holds checkpointd's domain: organizations, projects,
// clusters and the checkpoints a legacy backup system records for them,
// together with the one error type every layer speaks.
//
// It imports only the standard library and does no I/O: stores persist these
// types, the HTTP surfaces render them, the engine produces them.
package backup
