package httpapi

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Atlas v2 versions resources by date: a client asks for
// application/vnd.atlas.YYYY-MM-DD+json and gets the newest version of the
// resource on or before that date. No such header, a plain JSON type, or a
// date before the resource's first version is 406 INVALID_VERSION_DATE.

const vndPrefix, vndSuffix = "application/vnd.atlas.", "+json"

// errInvalidVersion is the service's 406 for a version it cannot serve.
func errInvalidVersion() error {
	return httpErrorf(http.StatusNotAcceptable, backup.CodeInvalidVersionDate, "Invalid accept header or version date.")
}

// acceptRange is one media range of an Accept header that names an Atlas
// version.
type acceptRange struct {
	date string
	q    float64
}

// negotiateVersion picks the version of a resource (versions ascending,
// YYYY-MM-DD) that an Accept header selects. Ranges are tried by
// descending q, in header order among equals; the first that resolves wins.
func negotiateVersion(accept []string, versions []version) (version, error) {
	// Fast path: the SDKs send exactly one range with no parameters.
	if len(accept) == 1 && strings.IndexByte(accept[0], ',') < 0 && strings.IndexByte(accept[0], ';') < 0 {
		mt := strings.TrimSpace(accept[0])
		if len(mt) == len(vndPrefix)+10+len(vndSuffix) && strings.HasPrefix(mt, vndPrefix) && strings.HasSuffix(mt, vndSuffix) {
			date := mt[len(vndPrefix) : len(vndPrefix)+10]
			for i := len(versions) - 1; i >= 0; i-- {
				if versions[i].date == date {
					return versions[i], nil
				}
			}
		}
	}
	var ranges []acceptRange
	for _, h := range accept {
		for _, r := range strings.Split(h, ",") {
			mt, params, _ := strings.Cut(r, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if !strings.HasPrefix(mt, vndPrefix) || !strings.HasSuffix(mt, vndSuffix) {
				continue
			}
			date := mt[len(vndPrefix) : len(mt)-len(vndSuffix)]
			if _, err := time.Parse("2006-01-02", date); err != nil {
				continue
			}
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "q") {
					if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
						q = f
					} else {
						q = 0
					}
				}
			}
			if q > 0 {
				ranges = append(ranges, acceptRange{date: date, q: q})
			}
		}
	}
	sort.SliceStable(ranges, func(i, j int) bool { return ranges[i].q > ranges[j].q })
	for _, r := range ranges {
		// ISO dates compare correctly as strings.
		for i := len(versions) - 1; i >= 0; i-- {
			if versions[i].date <= r.date {
				return versions[i], nil
			}
		}
	}
	return version{}, errInvalidVersion()
}

// versionedTypes holds the Content-Type header of each version served,
// made once: the server's own dates (operation.versions), a few, found by
// a walk (hashing the date in a sync.Map cost more than the walk).
var versionedTypes struct {
	mu    sync.Mutex // for adding one
	types atomic.Pointer[[]versionedTypeOf]
}

type versionedTypeOf struct {
	version string
	header  []string
}

// versionedType is the Content-Type of a v2 response body, e.g.
// application/vnd.atlas.2023-01-01+json;charset=utf-8 (no space before
// charset, as the service sends it).
func versionedType(version string) []string {
	if ts := versionedTypes.types.Load(); ts != nil {
		for _, t := range *ts {
			if t.version == version {
				return t.header
			}
		}
	}
	versionedTypes.mu.Lock()
	defer versionedTypes.mu.Unlock()
	var ts []versionedTypeOf
	if p := versionedTypes.types.Load(); p != nil {
		ts = *p
	}
	for _, t := range ts {
		if t.version == version {
			return t.header
		}
	}
	h := []string{vndPrefix + version + vndSuffix + ";charset=utf-8"}
	ts = append(slices.Clip(ts), versionedTypeOf{version: strings.Clone(version), header: h}) // a new array: readers walk the old one
	versionedTypes.types.Store(&ts)
	return h
}

// isVersionedJSON reports whether a request body's media type (lower
// case, without parameters) is a dated Atlas type,
// application/vnd.atlas.YYYY-MM-DD+json: v2 clients and the Atlas SDKs
// send their bodies so.
func isVersionedJSON(mt string) bool {
	date, ok := strings.CutPrefix(mt, vndPrefix)
	if !ok {
		return false
	}
	date, ok = strings.CutSuffix(date, vndSuffix)
	if !ok {
		return false
	}
	_, err := time.Parse(time.DateOnly, date)
	return err == nil
}
