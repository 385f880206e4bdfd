package httpapi

import (
	"errors"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
)

func TestNegotiateVersion(t *testing.T) {
	versions := []version{{date: "2023-01-01"}, {date: "2023-02-01"}, {date: "2024-08-05"}}
	for _, tt := range []struct {
		name   string
		accept []string
		want   string // "" means 406
	}{
		{"exact oldest", []string{"application/vnd.atlas.2023-01-01+json"}, "2023-01-01"},
		{"exact newest", []string{"application/vnd.atlas.2024-08-05+json"}, "2024-08-05"},
		{"between versions", []string{"application/vnd.atlas.2024-01-01+json"}, "2023-02-01"},
		{"after every version", []string{"application/vnd.atlas.2099-12-31+json"}, "2024-08-05"},
		{"before every version", []string{"application/vnd.atlas.2022-12-31+json"}, ""},
		{"none", nil, ""},
		{"empty", []string{""}, ""},
		{"wildcard", []string{"*/*"}, ""},
		{"plain json", []string{"application/json"}, ""},
		{"bad date", []string{"application/vnd.atlas.2023-1-1+json"}, ""},
		{"not a date", []string{"application/vnd.atlas.latest+json"}, ""},
		{"preview", []string{"application/vnd.atlas.preview+json"}, ""},
		{"gzip variant", []string{"application/vnd.atlas.2023-01-01+gzip"}, ""},
		{"q orders ranges", []string{"application/vnd.atlas.2023-01-15+json;q=0.2, application/vnd.atlas.2025-01-01+json;q=0.9"}, "2024-08-05"},
		{"q zero refuses", []string{"application/vnd.atlas.2025-01-01+json;q=0"}, ""},
		{"bad q refuses", []string{"application/vnd.atlas.2025-01-01+json;q=abc"}, ""},
		{"first usable of several headers", []string{"text/plain", "application/vnd.atlas.2023-02-01+json"}, "2023-02-01"},
		{"spaces and case", []string{"  APPLICATION/VND.ATLAS.2023-01-01+JSON ; charset=UTF-8"}, "2023-01-01"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := negotiateVersion(tt.accept, versions)
			if tt.want == "" {
				if !isHTTPCode(err, backup.CodeInvalidVersionDate) {
					t.Errorf("negotiateVersion(%q) = %q, %v; want INVALID_VERSION_DATE", tt.accept, got, err)
				}
				return
			}
			if err != nil || got.date != tt.want {
				t.Errorf("negotiateVersion(%q) = %q, %v; want %q", tt.accept, got, err, tt.want)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	q, err := parseQuery("a=1&&b=x%20y&c&d=&e=a+b", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []param{{"a=1", "a", "1"}, {"b=x%20y", "b", "x y"}, {"c", "c", ""}, {"d=", "d", ""}, {"e=a+b", "e", "a b"}}
	if len(q) != len(want) {
		t.Fatalf("parseQuery = %v, want %v", q, want)
	}
	for i := range want {
		if q[i] != want[i] {
			t.Errorf("param %d = %+v, want %+v", i, q[i], want[i])
		}
	}
	for _, bad := range []string{"a=%", "a=%zz", "%g=1"} {
		if _, err := parseQuery(bad, nil); !backup.IsCode(err, backup.CodeInvalidQueryParameter) {
			t.Errorf("parseQuery(%q) error %v, want INVALID_QUERY_PARAMETER", bad, err)
		}
	}
}

func TestPage(t *testing.T) {
	for _, tt := range []struct {
		raw      string
		mode     PagingMode
		num, sz  int
		count    bool
		badParam string
	}{
		{"", PagingLenient, 1, 100, true, ""},
		{"pageNum=&itemsPerPage=", PagingLenient, 1, 100, true, ""},
		{"pageNum=4&itemsPerPage=500&includeCount=false", PagingLenient, 4, 500, false, ""},
		{"itemsPerPage=100000", PagingLenient, 1, 500, true, ""},
		{"itemsPerPage=0&pageNum=0", PagingLenient, 1, 100, true, ""},
		{"itemsPerPage=0", PagingStrict, 0, 0, false, "itemsPerPage"},
		{"pageNum=0", PagingStrict, 0, 0, false, "pageNum"},
		{"itemsPerPage=-5", PagingLenient, 0, 0, false, "itemsPerPage"},
		{"pageNum=1e3", PagingLenient, 0, 0, false, "pageNum"},
		{"pageNum=0x10", PagingLenient, 0, 0, false, "pageNum"},
		{"pageNum=99999999999", PagingLenient, 0, 0, false, "pageNum"},
		{"includeCount=maybe", PagingLenient, 0, 0, false, "includeCount"},
		{"includeCount=True", PagingLenient, 1, 100, true, ""},
	} {
		q, _ := parseQuery(tt.raw, nil)
		p, err := q.page(tt.mode)
		if tt.badParam != "" {
			e := backup.ErrorOf(err)
			if e == nil || e.Code != backup.CodeInvalidQueryParameter || e.Params[0] != tt.badParam {
				t.Errorf("page(%q, %v) error %v, want INVALID_QUERY_PARAMETER %s", tt.raw, tt.mode, err, tt.badParam)
			}
			continue
		}
		if err != nil || p.Num != tt.num || p.Size != tt.sz || p.IncludeCount != tt.count {
			t.Errorf("page(%q, %v) = %+v, %v; want %d/%d/%v", tt.raw, tt.mode, p, err, tt.num, tt.sz, tt.count)
		}
	}
}

func FuzzQuery(f *testing.F) {
	f.Add("pageNum=1&itemsPerPage=100&includeCount=true&pretty=false")
	f.Add("a=%zz&&=&b")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseQuery(raw, nil)
		if err != nil {
			if backup.ErrorOf(err) == nil {
				t.Fatalf("parseQuery(%q) returned a non-API error %v", raw, err)
			}
			return
		}
		p, err := q.page(PagingLenient)
		if err == nil && (p.Num < 1 || p.Size < 1 || p.Size > MaxItemsPerPage) {
			t.Fatalf("page(%q) = %+v out of range", raw, p)
		}
	})
}

func TestCleanPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/api/atlas/v2/groups": true, "/api/atlas/v2/groups/": true,
		"": false, "x": false, "//": false, "/a//b": false, "/a/./b": false, "/a/../b": false, "/.": false, "/a/..": false, "/a/.b": true, "/a/b..": true,
	} {
		if got := cleanPath(p); got != want {
			t.Errorf("cleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// isHTTPCode reports whether err is an httpError with the given code.
func isHTTPCode(err error, code string) bool {
	var he *httpError
	return errors.As(err, &he) && he.code == code
}
