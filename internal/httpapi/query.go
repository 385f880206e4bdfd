package httpapi

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Paging defaults and bounds of every list in the Atlas and Cloud Manager
// APIs.
const (
	DefaultItemsPerPage = 100
	MaxItemsPerPage     = 500
)

// PagingMode says what happens to out-of-range paging values.
type PagingMode int

const (
	// PagingLenient follows MongoDB's API guideline IPA-110: an absent or
	// zero itemsPerPage means the default, one above the maximum means the
	// maximum, and pageNum 0 means page 1. Negative and non-numeric values
	// are still rejected with 400 INVALID_QUERY_PARAMETER.
	PagingLenient PagingMode = iota
	// PagingStrict rejects any value outside the spec's ranges
	// (itemsPerPage 1–500, pageNum ≥ 1) with 400 INVALID_QUERY_PARAMETER.
	PagingStrict
)

// ParsePagingMode parses "lenient" or "strict".
func ParsePagingMode(s string) (PagingMode, bool) {
	switch s {
	case "lenient":
		return PagingLenient, true
	case "strict":
		return PagingStrict, true
	}
	return 0, false
}

func (m PagingMode) String() string {
	if m == PagingStrict {
		return "strict"
	}
	return "lenient"
}

// param is one key=value pair of a query string, kept raw (as sent, for
// echoing in links) and decoded (for parsing).
type param struct {
	raw        string // "key=value" exactly as in the request
	key, value string // decoded
}

// query is a request's query string in request order. The service echoes
// other parameters in links in the order they came, so url.Values (a map)
// will not do.
type query []param

// parseQuery splits a raw query string. A pair whose percent-encoding is
// broken is a 400 naming that pair's raw key.
func parseQuery(raw string, dst query) (query, error) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := unescape(k)
		if err != nil {
			return dst, backup.ErrInvalidQueryParameter(k)
		}
		value, err := unescape(v)
		if err != nil {
			return dst, backup.ErrInvalidQueryParameter(key)
		}
		dst = append(dst, param{raw: pair, key: key, value: value})
	}
	return dst, nil
}

// unescape avoids url.QueryUnescape's allocation for the common case of a
// value with nothing to decode.
func unescape(s string) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// get returns the first value of key and whether it was present. Like
// JAX-RS, a repeated parameter counts by its first value.
func (q query) get(key string) (string, bool) {
	for i := range q {
		if q[i].key == key {
			return q[i].value, true
		}
	}
	return "", false
}

// has reports whether key appears.
func (q query) has(key string) bool {
	_, ok := q.get(key)
	return ok
}

// boolParam parses a boolean parameter: true or false in any case, empty or
// absent for the default.
func (q query) boolParam(key string, def bool) (bool, error) {
	v, ok := q.get(key)
	if !ok || v == "" {
		return def, nil
	}
	switch {
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	}
	if !guessStrictBooleans {
		return false, nil
	}
	return false, backup.ErrInvalidQueryParameter(key)
}

// intParam parses a non-negative int32 parameter; absent or empty gives ok
// false. Signs, spaces and digits beyond int32 are rejected.
func (q query) intParam(key string) (n int, ok bool, err error) {
	v, present := q.get(key)
	if !present || v == "" {
		return 0, false, nil
	}
	n64, perr := strconv.ParseInt(v, 10, 32)
	if perr != nil || n64 < 0 || v[0] == '+' {
		return 0, false, backup.ErrInvalidQueryParameter(key)
	}
	return int(n64), true, nil
}

// page parses pageNum, itemsPerPage and includeCount.
func (q query) page(mode PagingMode) (backup.PageRequest, error) {
	p := backup.PageRequest{Num: 1, Size: DefaultItemsPerPage, IncludeCount: true}
	num, ok, err := q.intParam("pageNum")
	if err != nil {
		return p, err
	}
	if ok {
		switch {
		case num >= 1:
			p.Num = num
		case mode == PagingStrict:
			return p, backup.ErrInvalidQueryParameter("pageNum")
		}
	}
	size, ok, err := q.intParam("itemsPerPage")
	if err != nil {
		return p, err
	}
	if ok {
		switch {
		case size >= 1 && size <= MaxItemsPerPage:
			p.Size = size
		case mode == PagingStrict:
			return p, backup.ErrInvalidQueryParameter("itemsPerPage")
		case size > MaxItemsPerPage:
			p.Size = MaxItemsPerPage
		}
	}
	p.IncludeCount, err = q.boolParam("includeCount", true)
	return p, err
}
