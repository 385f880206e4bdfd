// Package httpapi is checkpointd's HTTP pipeline, written once for every API
// generation it serves: request id and logging, (authentication, once it
// exists), method and version checks, one parser for ids and the shared
// query parameters, one store read, the surface's representation, the
// pretty/envelope encoder, and one place that turns any error into the
// API's error body.
//
// A surface (Atlas v2, Atlas v1.0, Cloud Manager) contributes only what
// differs between generations: its path prefix, media types, how it names a
// cluster, and the representation functions from its subpackage.
package httpapi
