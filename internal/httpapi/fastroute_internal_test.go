package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type (
	stubAdmin        struct{ AdminStore }
	stubClusterAdmin struct{ ClusterAdmin }
	stubOAuth        struct{ OAuthEndpoints }
)

// TestFastRoutesAgreeWithMux: for every path fastRoutes routes, the mux,
// with every pattern of the full route table registered (administration
// API, OAuth endpoints, web view included), picks the same route set with
// the same path values; and fastRoutes routes the checkpoint paths it
// exists for.
func TestFastRoutesAgreeWithMux(t *testing.T) {
	s := New(Config{Admin: stubAdmin{}, ClusterAdmin: stubClusterAdmin{}, OAuth: stubOAuth{}, UI: http.NotFoundHandler()}, nil)
	if len(s.fast) != 3 {
		t.Fatalf("%d surfaces with fast routes, want 3", len(s.fast))
	}
	// A mux as the server's, whose handlers say which set answered and
	// with which values.
	type answer struct {
		set                    *routeSet
		group, cluster, itemID string
	}
	var got answer
	mux := http.NewServeMux()
	seen := map[*routeSet]bool{}
	var sets []*routeSet
	collect := func(set *routeSet) {
		if !seen[set] {
			seen[set] = true
			sets = append(sets, set)
		}
	}
	for _, fr := range s.fast {
		collect(fr.list)
		collect(fr.item)
	}
	for _, set := range allSets(s) {
		collect(set)
	}
	for _, set := range sets {
		mux.Handle(set.pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = answer{set: set, group: r.PathValue("groupId"), cluster: r.PathValue("cluster"), itemID: r.PathValue("checkpointId")}
		}))
	}

	segs := []string{"5f0c1a2b3c4d5e6f70819203", "clusters", "byName", "backupCheckpoints", "checkpoints",
		"restoreJobs", "snapshotSchedule", "a.b~c_d-e", ".", ".."}
	const unclean = 2 // the last segments: never routed by fastRoutes
	var paths []string
	var walk func(p string, depth int)
	walk = func(p string, depth int) {
		paths = append(paths, p)
		if depth == 0 {
			return
		}
		for _, sg := range segs {
			walk(p+"/"+sg, depth-1)
		}
	}
	prefixes := []string{"/api/atlas/v2/groups", "/api/atlas/v1.0/groups", "/api/public/v1.0/groups"}
	for _, pre := range prefixes {
		walk(pre, 5)
	}
	routed := 0
	for _, p := range paths {
		for _, suffix := range []string{"", "/"} {
			r := httptest.NewRequest(http.MethodGet, p+suffix, nil)
			if !cleanPath(r.URL.Path) {
				var pv pathValues
				if set, ok := s.fast.match(r, &pv); ok {
					t.Errorf("%s: not clean, routed by fastRoutes to %s", p+suffix, set.pattern)
				}
				continue
			}
			var pv pathValues
			set, ok := s.fast.match(r, &pv)
			if !ok {
				continue
			}
			routed++
			got = answer{}
			mux.ServeHTTP(httptest.NewRecorder(), r)
			want := answer{set: set, group: pv.group, cluster: pv.cluster, itemID: pv.itemID}
			if got != want {
				t.Errorf("%s: fast %q %+v, mux %q %+v", p+suffix, set.pattern, want, patternOf(got.set), got)
			}
		}
	}
	// Each surface's two routes, for every value of the segments that are
	// not literals.
	if n := len(segs) - unclean; routed != 3*(n*n+n*n*n) {
		t.Errorf("fastRoutes routed %d paths", routed)
	}
	for _, p := range []string{
		"/api/atlas/v2/groups/g/clusters/c/backupCheckpoints",
		"/api/atlas/v1.0/groups/g/clusters/c/backupCheckpoints/id",
		"/api/public/v1.0/groups/g/clusters/c/checkpoints/id",
	} {
		var pv pathValues
		if _, ok := s.fast.match(httptest.NewRequest(http.MethodGet, p, nil), &pv); !ok {
			t.Errorf("%s: not routed by fastRoutes", p)
		}
	}
	for _, p := range []string{
		"/api/atlas/v2/groups/g/clusters/c%41/backupCheckpoints",
		"/api/atlas/v2/groups/g/clusters/c/backupCheckpoints/",
		"/api/atlas/v2/groups/g/clusters/c/checkpoints/id",
		"/api/public/v1.0/groups/g/clusters/c/backupCheckpoints",
		"/api/atlas/v2/groups/g/clusters/c/backupCheckpoints/id/x",
		"/api/atlas/v2/groups/g/clusters/c:d/backupCheckpoints",
		"/api/atlas/v2/groups/g/clusters/c%20d/backupCheckpoints",   // a space in Path, RawPath empty
		"/api/atlas/v2/groups/g/clusters/c%C3%A9/backupCheckpoints", // é in Path, RawPath empty
		// Not clean: the mux would redirect them, the server refuses them.
		"/api/atlas/v2/groups/./clusters/c/backupCheckpoints",
		"/api/atlas/v2/groups/g/clusters/../backupCheckpoints",
		"/api/atlas/v2/groups/g/clusters/./backupCheckpoints/id",
		"/api/atlas/v2/groups/g/clusters/c/backupCheckpoints/..",
		"/api/atlas/v2/groups/g/clusters/c/backupCheckpoints/.",
		"/api/atlas/v1.0/groups//clusters/c/backupCheckpoints",
		"/api/public/v1.0/groups/g/clusters//checkpoints/id",
		"/api/public/v1.0/groups/g/clusters/c/checkpoints//",
		"/api/public/v1.0//groups/g/clusters/c/checkpoints/id",
	} {
		var pv pathValues
		if set, ok := s.fast.match(httptest.NewRequest(http.MethodGet, p, nil), &pv); ok {
			t.Errorf("%s: routed by fastRoutes to %s", p, set.pattern)
		}
	}
}

// allSets is every route set registered on the server's mux.
func allSets(s *Server) []*routeSet {
	var sets []*routeSet
	seen := map[*routeSet]bool{}
	for _, rt := range s.table {
		// Ask the mux for the set of a path the pattern matches.
		p := strings.NewReplacer("{groupId}", "g", "{cluster}", "c", "{checkpointId}", "i", "{jobId}", "j",
			"{groupName}", "n", "{slot}", "s").Replace(rt.pattern)
		h, _ := s.mux.Handler(httptest.NewRequest(http.MethodGet, p, nil))
		if set, ok := h.(*routeSet); ok && !seen[set] {
			seen[set] = true
			sets = append(sets, set)
		}
	}
	return sets
}

func patternOf(set *routeSet) string {
	if set == nil {
		return "(none)"
	}
	return set.pattern
}
