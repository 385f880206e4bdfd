// Package storetest is the one conformance suite every checkpointd store
// passes: store.Store is the contract it checks, and its consumers
// (httpapi, engine, auth) declare the narrow slices they use.
package storetest

import (
	"github.com/checkpointd/checkpointd/internal/store"
)

// Store is the contract the suite checks, declared in package store.
type Store = store.Store
