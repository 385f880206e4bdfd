package httpapi

import (
	"strconv"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// appendListLinks appends the links array of a paginated list, formed as the
// service forms them (JAX-RS replaceQueryParam semantics):
//
//   - self: the request's other parameters in request order, then
//     pageNum=<n>&itemsPerPage=<m> with the values in effect;
//   - next: the request's parameters with only pageNum moved to the end as
//     pageNum=<n+1>; present when includeCount is on and more items follow;
//   - previous: likewise with pageNum=<n-1>, present after the first page.
func appendListLinks(b []byte, rq *request, p backup.PageRequest, total int) []byte {
	b = append(b, `"links":[`...)
	b = appendPageLink(b, rq, "self", p.Num, p.Size, true)
	next := p.IncludeCount && p.Num*p.Size < total
	prev := p.Num > 1
	if guessPreviousAfterNext {
		if next {
			b = append(b, ',')
			b = appendPageLink(b, rq, "next", p.Num+1, p.Size, false)
		}
		if prev {
			b = append(b, ',')
			b = appendPageLink(b, rq, "previous", p.Num-1, p.Size, false)
		}
	} else {
		if prev {
			b = append(b, ',')
			b = appendPageLink(b, rq, "previous", p.Num-1, p.Size, false)
		}
		if next {
			b = append(b, ',')
			b = appendPageLink(b, rq, "next", p.Num+1, p.Size, false)
		}
	}
	return append(b, ']')
}

// appendPageLink appends one link to page num. self replaces both paging
// parameters; next and previous replace only pageNum.
func appendPageLink(b []byte, rq *request, rel string, num, size int, self bool) []byte {
	b = append(b, `{"href":"`...)
	b = wire.AppendEscaped(b, rq.base)
	b = wire.AppendEscaped(b, rq.URL.EscapedPath())
	b = append(b, '?')
	for _, p := range rq.query {
		if p.key == "pageNum" || self && p.key == "itemsPerPage" {
			continue
		}
		b = wire.AppendEscaped(b, p.raw)
		b = append(b, '&')
	}
	if self {
		b = append(b, "pageNum="...)
		b = strconv.AppendInt(b, int64(num), 10)
		b = append(b, "&itemsPerPage="...)
		b = strconv.AppendInt(b, int64(size), 10)
	} else {
		if guessNextAddsItemsPerPage && !rq.query.has("itemsPerPage") {
			b = append(b, "itemsPerPage="...)
			b = strconv.AppendInt(b, int64(size), 10)
			b = append(b, '&')
		}
		b = append(b, "pageNum="...)
		b = strconv.AppendInt(b, int64(num), 10)
	}
	b = append(b, `","rel":"`...)
	b = append(b, rel...)
	return append(b, `"}`...)
}

// list is the result of a paginated list of n items:
// {"links":[…],"results":[…],"totalCount":N}, with "status" between
// results and totalCount when the request asked for an envelope (the
// renderer closes the list). totalCount is 0, not absent, when
// includeCount is false (as captured on the service).
func (rq *request) list(p backup.PageRequest, total, n int, item func(b []byte, i int) []byte) result {
	return rq.listOf(p, total, func(b []byte) []byte {
		for i := 0; i < n; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = item(b, i)
		}
		return b
	})
}

// listOf is list with the results appended by items, comma separated.
func (rq *request) listOf(p backup.PageRequest, total int, items func(b []byte) []byte) result {
	b := append(rq.buf[:0], '{')
	b = appendListLinks(b, rq, p, total)
	b = append(b, `,"results":[`...)
	b = items(b)
	b = append(b, ']')
	if !p.IncludeCount {
		total = 0
	}
	return result{body: b, list: true, total: total}
}
