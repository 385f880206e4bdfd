// Package oauth implements the pieces of Atlas's OAuth 2.0 client
// credentials flow for service accounts that a checkpointd server needs:
// client id and secret formats, secret hashing at rest, self-contained
// bearer tokens (JWTs) with key rotation and a revocation seam, and the
// request parsing and response writing of the token and revoke endpoints.
//
// It is a library only: it keeps no state beyond the keys it is given and
// mounts no routes. The HTTP pipeline wires it to a store, so that
// revocation and client lookup are shared by every server instance.
//
// The wire formats follow docs/research (api-fidelity §6.2): the official
// clients (the Atlas Go SDK through golang.org/x/oauth2 with
// AuthStyleInHeader, the CLI, Terraform) must work unmodified.
package oauth
