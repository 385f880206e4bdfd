package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "github.com/oasdiff/yaml3"

	"github.com/checkpointd/checkpointd/internal/httpapi/openapi"
)

var update = flag.Bool("update", false, "rewrite checkpointd.json from checkpointd.yaml")

// TestJSONIsTheYAML keeps the committed JSON form the exact conversion of
// the YAML: key order kept, two-space indentation. go generate (or
// go test -update) rewrites it.
func TestJSONIsTheYAML(t *testing.T) {
	want, err := yamlToJSON(openapi.YAML())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("checkpointd.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(openapi.JSON(), want) {
		t.Fatal("checkpointd.json is not the conversion of checkpointd.yaml; run go generate ./internal/httpapi/openapi")
	}
}

// TestDocumentValidates loads both forms with kin-openapi and validates
// them against the OpenAPI 3.0 rules (every $ref resolves, parameters
// match their path templates, operation ids are unique, examples and
// defaults fit their schemas, …).
func TestDocumentValidates(t *testing.T) {
	y, j := openapi.Documents("v1.2.3")
	for name, src := range map[string][]byte{"yaml": y, "json": j} {
		t.Run(name, func(t *testing.T) {
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromData(src)
			if err != nil {
				t.Fatalf("loading: %v", err)
			}
			if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
				t.Fatalf("validating: %v", err)
			}
			if doc.OpenAPI != "3.0.3" || doc.Info.Version != "v1.2.3" {
				t.Errorf("openapi %q, info.version %q", doc.OpenAPI, doc.Info.Version)
			}
		})
	}
}

// TestDocumentsVersion: the placeholder is in each form exactly once, on
// info.version, and any version string comes out as that value in both.
func TestDocumentsVersion(t *testing.T) {
	for name, src := range map[string][]byte{"yaml": openapi.YAML(), "json": openapi.JSON()} {
		if n := bytes.Count(src, []byte(openapi.VersionPlaceholder)); n != 1 {
			t.Errorf("%s form holds the version placeholder %d times, want 1", name, n)
		}
	}
	for _, v := range []string{"dev", "v0.4.1", `odd "quoted" \ver: #1`, "tab\there"} {
		y, j := openapi.Documents(v)
		var yv struct {
			Info struct{ Version string } `yaml:"info"`
		}
		if err := yaml.Unmarshal(y, &yv); err != nil {
			t.Fatalf("%q: YAML: %v", v, err)
		}
		var jv struct {
			Info struct{ Version string } `json:"info"`
		}
		if err := json.Unmarshal(j, &jv); err != nil {
			t.Fatalf("%q: JSON: %v", v, err)
		}
		if yv.Info.Version != v || jv.Info.Version != v {
			t.Errorf("version %q: YAML has %q, JSON %q", v, yv.Info.Version, jv.Info.Version)
		}
	}
}

// TestFormsAreTheSameDocument compares the two forms as data, independently
// of the converter above: the YAML decoded generically and the JSON
// decoded generically must be equal.
func TestFormsAreTheSameDocument(t *testing.T) {
	y, j := openapi.Documents("v9")
	if err := SameDocument(y, j); err != nil {
		t.Fatal(err)
	}
	// The comparison is not blind.
	if err := SameDocument(y, bytes.Replace(j, []byte(`"title": "checkpointd"`), []byte(`"title": "other"`), 1)); err == nil {
		t.Fatal("a changed title went unnoticed")
	}
}

// SameDocument reports whether a YAML and a JSON text hold the same data.
func SameDocument(yamlSrc, jsonSrc []byte) error {
	var yv any
	if err := yaml.Unmarshal(yamlSrc, &yv); err != nil {
		return fmt.Errorf("YAML: %w", err)
	}
	// Through JSON, so that numbers and maps take the same Go types on
	// both sides.
	b, err := json.Marshal(yv)
	if err != nil {
		return fmt.Errorf("YAML as JSON: %w", err)
	}
	var a, c any
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if err := json.Unmarshal(jsonSrc, &c); err != nil {
		return fmt.Errorf("JSON: %w", err)
	}
	if !reflect.DeepEqual(a, c) {
		return errors.New("the YAML and JSON forms hold different data")
	}
	return nil
}

// yamlToJSON converts a YAML document to indented JSON, keeping the order
// of mapping keys (a map would sort them). The conversion is the one the
// generated file is held to; the YAML parser is the one kin-openapi loads
// documents with.
func yamlToJSON(src []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := writeJSON(&b, &n, ""); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node, indent string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return errors.New("want exactly one YAML document")
		}
		return writeJSON(b, n.Content[0], indent)
	case yaml.AliasNode:
		return writeJSON(b, n.Alias, indent)
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteString("{\n")
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: a mapping key that is not a scalar", k.Line)
			}
			if seen[k.Value] {
				return fmt.Errorf("line %d: key %q repeated", k.Line, k.Value)
			}
			seen[k.Value] = true
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(indent + "  ")
			if err := writeScalar(b, k.Value); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := writeJSON(b, v, indent+"  "); err != nil {
				return err
			}
		}
		b.WriteString("\n" + indent + "}")
		return nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteString("[\n")
		for i, v := range n.Content {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(indent + "  ")
			if err := writeJSON(b, v, indent+"  "); err != nil {
				return err
			}
		}
		b.WriteString("\n" + indent + "]")
		return nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		return writeScalar(b, v)
	}
	return fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
}

// writeScalar writes v as JSON without escaping <, > and &, which are
// common in the descriptions and harmless in a document served as
// application/json.
func writeScalar(b *bytes.Buffer, v any) error {
	var s strings.Builder
	enc := json.NewEncoder(&s)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.WriteString(strings.TrimSuffix(s.String(), "\n"))
	return nil
}
