// Package httpapi is checkpointd's HTTP pipeline, written once for every
// route of the server: the route table (routes.go) lists each one as a row
// — method, pattern, surface, operation, whether it needs authentication,
// handler — and one function (Server.serve) serves them all: request id,
// size limits, authentication, the route's method, the query parameters
// its surface reads (one parser for ids and the shared query parameters),
// the handler, which returns a result or an error, and the renderer, the
// only code that writes bodies: pretty/envelope, the surface's media
// type, and one place that turns any error into the API's error body.
//
// A surface (Atlas v2, Atlas v1.0, Cloud Manager, the administration API,
// the web view...) contributes only what differs between them: its path
// prefix, media types, how it names a cluster, which query parameters it
// reads, and the representation functions from its subpackage.
package httpapi
