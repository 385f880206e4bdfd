package httpapi

import (
	"net/http"
	"slices"
	"strings"
)

// The checkpoint routes (a page of a cluster's checkpoints, one
// checkpoint) are most of the API's traffic. net/http's mux finds their
// rows by walking its tree with the path cleaned and each segment
// unescaped, and keeps the path values in a slice it grows per request:
// a fifth of a cached get-one's time in the server. fastRoutes finds those
// rows directly, for the paths where the answer is certainly the mux's:
// only unreserved characters (nothing to unescape, nothing to clean),
// and exactly the segments of the route's pattern. Any other path goes to
// the mux, as before.
//
// That no other pattern of the table can win such a path over the
// checkpoint route is checked by TestFastRoutesAgreeWithMux, over every
// pattern of the table.

// pathValues are the path values of a request routed by fastRoutes.
type pathValues struct {
	set                    bool
	group, cluster, itemID string
}

// fastRoute is one surface's checkpoint routes.
type fastRoute struct {
	prefix      string // the surface's groups path and "/"
	checkpoints string // the collection's segment
	list, item  *routeSet
}

// fastRoutes are the three generations' checkpoint routes.
type fastRoutes []fastRoute

// addFastRoute keeps set, registered at pattern, if it is one of its
// surface's checkpoint routes.
func (s *Server) addFastRoute(pattern string, set *routeSet) {
	sf := set.rows[0].surface
	coll := sf.groups + "/{groupId}/clusters/{cluster}/" + sf.checkpoints
	if sf.checkpoints == "" || pattern != coll && pattern != coll+"/{checkpointId}" {
		return
	}
	i := slices.IndexFunc(s.fast, func(f fastRoute) bool { return f.prefix == sf.groups+"/" })
	if i < 0 {
		s.fast = append(s.fast, fastRoute{prefix: sf.groups + "/", checkpoints: sf.checkpoints})
		i = len(s.fast) - 1
	}
	if pattern == coll {
		s.fast[i].list = set
	} else {
		s.fast[i].item = set
	}
}

// match finds the route set of a path and its values, or reports false:
// the mux is to route it (or cleanPath to refuse it). The literal parts
// of a path it takes are its pattern's, which are clean and unreserved;
// each segment in between is checked here, and only those bytes: the
// path as a whole was scanned twice before (cleanPath, then every byte
// for unreserved characters), a tenth of a cached get-one's time in the
// server.
func (f fastRoutes) match(r *http.Request, pv *pathValues) (*routeSet, bool) {
	p := r.URL.Path
	if r.URL.RawPath != "" {
		return nil, false
	}
	for i := range f {
		fr := &f[i]
		rest, ok := strings.CutPrefix(p, fr.prefix)
		if !ok {
			continue
		}
		// groupId/clusters/cluster/checkpoints[/checkpointId]
		var seg [6]string
		n := 0
		for n < len(seg) {
			j := strings.IndexByte(rest, '/')
			if j < 0 {
				seg[n] = rest
				n++
				break
			}
			seg[n], rest = rest[:j], rest[j+1:]
			n++
		}
		if n < 4 || n > 5 || seg[1] != "clusters" || seg[3] != fr.checkpoints ||
			!plainSegment(seg[0]) || !plainSegment(seg[2]) || n == 5 && !plainSegment(seg[4]) {
			return nil, false
		}
		set := fr.list
		if n == 5 {
			set = fr.item
		}
		if set == nil {
			return nil, false
		}
		*pv = pathValues{set: true, group: seg[0], cluster: seg[2], itemID: seg[4]}
		return set, true
	}
	return nil, false
}

// plainSegment reports whether a path segment is one the mux would take
// as it is: not empty, not "." or ".." (which it cleans), of unreserved
// characters only (RFC 3986: nothing it would unescape).
func plainSegment(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !unreserved[s[i]] {
			return false
		}
	}
	return true
}

// unreserved says which bytes are unreserved characters (RFC 3986).
var unreserved = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
	}
	return t
}()

// PathValue is the request's path value name, as the mux or fastRoutes
// found it.
func (rq *request) PathValue(name string) string {
	if !rq.pv.set {
		return rq.Request.PathValue(name)
	}
	switch name {
	case "groupId":
		return rq.pv.group
	case "cluster":
		return rq.pv.cluster
	case "checkpointId":
		return rq.pv.itemID
	}
	return ""
}
