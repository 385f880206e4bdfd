package httpapi

import (
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// FuzzNegotiateVersion sends any Accept header (its values separated by
// newlines) to the version negotiation of every operation: never a
// panic; an answer is one of the operation's versions, on or before a
// date the header names; a refusal is INVALID_VERSION_DATE; and the fast
// path for one plain media type agrees with the general parser.
func FuzzNegotiateVersion(f *testing.F) {
	for _, s := range []string{
		"application/vnd.atlas.2023-01-01+json",
		"application/vnd.atlas.2024-08-05+json",
		"application/vnd.atlas.2023-02-01+json;q=0.5, application/vnd.atlas.2024-08-05+json;q=0.4",
		"APPLICATION/VND.ATLAS.2025-01-01+JSON",
		"application/json\napplication/vnd.atlas.2023-06-30+json",
		"application/vnd.atlas.2023-01-01+json;q=0",
		"application/vnd.atlas.2023-01-01+json;q=1.5;q=0.2",
		"application/vnd.atlas.2023-13-45+json",
		" application/vnd.atlas.2023-01-01+json ",
		"*/*, ,;,;;q=",
		"application/vnd.atlas.2022-12-31+json",
	} {
		f.Add(s)
	}
	ops := []*operation{opListCheckpoints, opListClusters, opGetProject}
	f.Fuzz(func(t *testing.T, header string) {
		values := strings.Split(header, "\n")
		lower := strings.ToLower(header)
		for _, op := range ops {
			v, err := negotiateVersion(values, op.versions)
			if err != nil {
				if !isHTTPCode(err, backup.CodeInvalidVersionDate) {
					t.Fatalf("%q: %v", header, err)
				}
			} else {
				known := false
				for _, w := range op.versions {
					known = known || w.date == v.date
				}
				if !known {
					t.Fatalf("%q: version %q is not one of %s's", header, v.date, op.name)
				}
				// The date chosen is on or before one the header names.
				named := false
				for rest := lower; ; {
					i := strings.Index(rest, vndPrefix)
					if i < 0 {
						break
					}
					rest = rest[i+len(vndPrefix):]
					if len(rest) >= 10 && rest[:10] >= v.date {
						named = true
					}
				}
				if !named {
					t.Fatalf("%q: version %s, a date the header does not reach", header, v.date)
				}
			}
			// The general parser (two values, one empty, skip the fast
			// path) must agree with the fast path.
			v2, err2 := negotiateVersion(append(values[:len(values):len(values)], ""), op.versions)
			if (err == nil) != (err2 == nil) || v.date != v2.date {
				t.Fatalf("%q: fast path %q %v, general %q %v", header, v.date, err, v2.date, err2)
			}
		}
	})
}
