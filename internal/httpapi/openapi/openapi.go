// Package openapi holds the OpenAPI 3.0 description of checkpointd's HTTP
// API, written as YAML (checkpointd.yaml) and served as YAML and as JSON.
//
// The JSON form (checkpointd.json) is generated from the YAML and
// committed, so that the server needs no YAML parser at run time; a test
// fails whenever the two differ. After editing the YAML, regenerate it:
//
//	go generate ./internal/httpapi/openapi
//
// The package knows nothing of HTTP handling: internal/httpapi serves the
// documents and its tests hold the server to them.
package openapi

//go:generate go test -run ^TestJSONIsTheYAML$ -update .

import (
	"bytes"
	_ "embed"
	"encoding/json"
)

var (
	//go:embed checkpointd.yaml
	yamlDoc []byte
	//go:embed checkpointd.json
	jsonDoc []byte
)

// VersionPlaceholder is info.version as the files carry it, quoted. Both
// files hold it exactly once; Documents replaces it.
const VersionPlaceholder = `"0.0.0-dev"`

// Documents returns the YAML and JSON forms of the document with
// info.version set to version, the version of the server that serves it:
// the document describes that build exactly, and changes with it.
//
// The value is written as a JSON string, which is also a valid YAML
// double-quoted scalar, so any version string is safe in both forms.
func Documents(version string) (yamlForm, jsonForm []byte) {
	q, _ := json.Marshal(version) // a string always marshals
	return bytes.Replace(yamlDoc, []byte(VersionPlaceholder), q, 1),
		bytes.Replace(jsonDoc, []byte(VersionPlaceholder), q, 1)
}

// YAML returns the document as written, with the placeholder version.
func YAML() []byte { return bytes.Clone(yamlDoc) }

// JSON returns the committed JSON form, with the placeholder version.
func JSON() []byte { return bytes.Clone(jsonDoc) }
