package httpapi_test

import (
	"net/http"
	"strings"
)

// objectiveCases are the requests of the objective report route, each
// status it documents at least once.
func (e *openapiEnv) objectiveCases() []apiCase {
	long := "?x=" + strings.Repeat("a", 9000)
	big := []string{"X-Big", strings.Repeat("b", 40000)}
	rpo := "/api/checkpointd/v1/groups/" + groupHex + "/clusters/Cluster0/rpo"
	var cs []apiCase
	for _, tc := range []apiCase{
		{name: "default range", path: rpo, who: reader, status: 200},
		{name: "a range", path: rpo + "?from=2018-02-01T00:00:00Z&to=2018-02-09T00:00:00Z&pretty=true", who: reader, status: 200},
		{name: "bad from", path: rpo + "?from=yesterday", who: reader, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "from after to", path: rpo + "?from=2018-02-09T00:00:00Z&to=2018-02-01T00:00:00Z", who: reader, status: 400, code: "INVALID_QUERY_PARAMETER"},
		{name: "no credentials", path: rpo, who: nobody, status: 401},
		{name: "member", path: rpo, who: member, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "outsider", path: rpo, who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "unknown cluster", path: "/api/checkpointd/v1/groups/" + groupHex + "/clusters/Nope/rpo", who: reader, status: 404, code: "CLUSTER_NOT_FOUND"},
		{name: "URI too long", path: rpo + long, who: reader, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "headers too large", path: rpo, who: reader, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},
	} {
		tc.name = "admin objective: " + tc.name
		tc.method = http.MethodGet
		cs = append(cs, tc)
	}
	return cs
}
