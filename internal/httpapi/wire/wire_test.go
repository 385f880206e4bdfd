package wire_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

func TestAppendString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"a\nb\tc\r\x01", `"a\nb\tc\r\u0001"`},
		{"/<>&", `"/<>&"`},
		{"h\xffi", "\"h\ufffdi\""},
		{"żółw", `"żółw"`},
	} {
		got := string(wire.AppendString(nil, tt.in))
		if got != tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("AppendString(%q) = %s is not valid JSON", tt.in, got)
		}
	}
}

func TestAppendTime(t *testing.T) {
	tm := time.Date(2018, 2, 8, 23, 20, 25, 999, time.FixedZone("x", 3600))
	if got, want := string(wire.AppendTime(nil, tm)), `"2018-02-08T22:20:25Z"`; got != want {
		t.Errorf("AppendTime = %s, want %s", got, want)
	}
}

// TestAppendTimeMatchesLayout compares the hand-written formatter with the
// standard library over a spread of instants.
func TestAppendTimeMatchesLayout(t *testing.T) {
	for sec := int64(-62135596800); sec < 253402300800; sec += 7919 * 86400 / 3 {
		tm := time.Unix(sec, 0)
		want := `"` + tm.UTC().Format("2006-01-02T15:04:05Z") + `"`
		if got := string(wire.AppendTime(nil, tm)); got != want {
			t.Fatalf("AppendTime(%d) = %s, want %s", sec, got, want)
		}
	}
	if got := string(wire.AppendTime(nil, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))); got != `"10000-01-01T00:00:00Z"` {
		t.Errorf("year 10000: %s", got)
	}
}

func TestAppendLink(t *testing.T) {
	got := string(wire.AppendLink(nil, "self", "http://h", "/a?b=\"c\""))
	want := `{"href":"http://h/a?b=\"c\"","rel":"self"}`
	if got != want {
		t.Errorf("AppendLink = %s, want %s", got, want)
	}
}

func TestPretty(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"empty object", `{}`, `{ }`},
		{"empty array", `[]`, `[ ]`},
		{"scalars", `{"a":1,"b":"x","c":true}`, "{\n  \"a\" : 1,\n  \"b\" : \"x\",\n  \"c\" : true\n}"},
		{"scalar array", `{"a":["x","y"],"b":[]}`, "{\n  \"a\" : [ \"x\", \"y\" ],\n  \"b\" : [ ]\n}"},
		{"array of objects", `{"p":[{"a":1,"t":{"d":"x","i":2}},{"a":2}],"r":true}`,
			"{\n  \"p\" : [ {\n    \"a\" : 1,\n    \"t\" : {\n      \"d\" : \"x\",\n      \"i\" : 2\n    }\n  }, {\n    \"a\" : 2\n  } ],\n  \"r\" : true\n}"},
		{"strings with structure", `{"k":"a,b:{[\"]}","e":{}}`, "{\n  \"k\" : \"a,b:{[\\\"]}\",\n  \"e\" : { }\n}"},
		{"error body", `{"detail":"d","error":404,"parameters":[],"reason":"Not Found"}`,
			"{\n  \"detail\" : \"d\",\n  \"error\" : 404,\n  \"parameters\" : [ ],\n  \"reason\" : \"Not Found\"\n}"},
		{"array of strings after comma", `{"a":["x",{"b":"c"}]}`, "{\n  \"a\" : [ \"x\", {\n    \"b\" : \"c\"\n  } ]\n}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(wire.Pretty(nil, []byte(tt.in)))
			if got != tt.want {
				t.Errorf("Pretty(%s) =\n%s\nwant\n%s", tt.in, got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("Pretty output is not valid JSON")
			}
		})
	}
}

// FuzzPretty checks that pretty-printing any valid compact JSON yields JSON
// that decodes to the same value.
func FuzzPretty(f *testing.F) {
	f.Add(`{"a":[1,{"b":"c,d"}],"e":{}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		compact, _ := json.Marshal(v)
		out := wire.Pretty(nil, compact)
		var w any
		if err := json.Unmarshal(out, &w); err != nil {
			t.Fatalf("Pretty(%s) = %s: %v", compact, out, err)
		}
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(w)
		if string(a) != string(b) {
			t.Fatalf("Pretty changed the value: %s vs %s", a, b)
		}
	})
}
