package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// slotFixture is what the slot cases need beside the demo's records: an
// agent's cluster with a schedule, whose slots the agents report.
type slotFixture struct {
	agent backup.Cluster
	slots [2]time.Time // one slot per credentials kind, to report
}

func addSlotFixture(t *testing.T, e *openapiEnv) {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	now := time.Now().UTC()
	ids := backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 's'}, 1)
	f := &e.slots
	f.agent = backup.Cluster{ID: ids.New(now), GroupID: e.ds.Clusters[0].GroupID, Name: "Slots", Type: backup.Sharded, MongoDBVersion: "4.0.28",
		Backup: backup.BackupLegacy, Created: now.Truncate(time.Second), Shards: []backup.Shard{{Name: "s0", ReplicaSetName: "rs0"}},
		Config: backup.ConfigServer{ReplicaSetName: "cfg"}, Schedule: backup.CheckpointSchedule{Driver: backup.DriverAgent, Interval: 15 * time.Minute}}
	if err := e.db.CreateCluster(ctx, f.agent); err != nil {
		t.Fatal(err)
	}
	last := now.Truncate(15 * time.Minute)
	f.slots = [2]time.Time{last.Add(-15 * time.Minute), last.Add(-30 * time.Minute)}
}

// slotCases are the administration API's slot routes: the list with its
// filters, a checkpoint's slot and the checkpoint with its reason, and an
// agent's report.
func (e *openapiEnv) slotCases(kind string) []apiCase {
	long := "?x=" + strings.Repeat("a", 9000)
	big := []string{"X-Big", strings.Repeat("b", 40000)}
	cl := "/api/checkpointd/v1/groups/" + groupHex + "/clusters/"
	list := cl + "Cluster0/slots"
	sample := e.ds.Sample["Cluster0"].Hex()
	cpSlot := cl + "Cluster0/checkpoints/" + sample + "/slot"
	broken := cl + "Cluster0/checkpoints/" + e.restores.broken.Hex()
	slot := e.slots.slots[0]
	if kind != "digest" {
		slot = e.slots.slots[1]
	}
	report := cl + "Slots/slots/" + slot.Format(time.RFC3339)
	skipped := `{"outcome":"SKIPPED","reason":"BALANCER_NOT_STOPPED","detail":"balancer would not stop within 1m0s","steps":[{"step":"BALANCER_STOP_REQUESTED","at":"` +
		slot.Add(10*time.Second).Format(time.RFC3339) + `"},{"step":"BALANCER_RESTARTED","at":"` + slot.Add(75*time.Second).Format(time.RFC3339) + `"}]}`
	var cs []apiCase
	for _, tc := range []apiCase{
		{name: "list", path: list, who: reader, status: 200},
		{name: "list filtered", path: list + "?outcome=SKIPPED&outcome=not_restorable,taken&from=2020-01-01T00:00:00Z&to=2099-01-01T00:00:00Z&itemsPerPage=3&pageNum=2", who: reader, status: 200},
		{name: "list without count, enveloped, pretty", path: list + "?includeCount=false&envelope=true&pretty=true", who: reader, status: 200},
		{name: "list unknown outcome", path: list + "?outcome=TAKEN,LATE", who: reader, status: 400, code: "INVALID_QUERY_PARAMETER", mention: "outcome"},
		{name: "list bad from", path: list + "?from=yesterday", who: reader, status: 400, code: "INVALID_QUERY_PARAMETER", mention: "from", badRequest: true},
		{name: "list to before from", path: list + "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", who: reader, status: 400, code: "INVALID_QUERY_PARAMETER", mention: "to"},
		{name: "list bad page", path: list + "?pageNum=-1", who: reader, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "list no credentials", path: list, who: nobody, status: 401},
		{name: "list member", path: list, who: member, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "list outsider", path: list, who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "list unknown cluster", path: cl + "Nope/slots", who: reader, status: 404, code: "CLUSTER_NOT_FOUND"},
		{name: "list URI too long", path: list + long, who: reader, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "list headers too large", path: list, who: reader, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},

		{name: "checkpoint slot", path: cpSlot, who: reader, status: 200},
		{name: "checkpoint slot bad pretty", path: cpSlot + "?pretty=maybe", who: reader, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "checkpoint slot no credentials", path: cpSlot, who: nobody, status: 401},
		{name: "checkpoint slot member", path: cpSlot, who: member, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "checkpoint slot outsider", path: cpSlot, who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "checkpoint slot without a record", path: cl + "Cluster0/checkpoints/" + e.restores.fresh.Hex() + "/slot", who: reader, status: 404, code: "SLOT_NOT_FOUND"},
		{name: "checkpoint slot unknown checkpoint", path: cl + "Cluster0/checkpoints/5a7cdb3980eef53de5bffdce/slot", who: reader, status: 404, code: "CHECKPOINT_NOT_FOUND"},
		{name: "checkpoint slot URI too long", path: cpSlot + long, who: reader, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "checkpoint slot headers too large", path: cpSlot, who: reader, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},

		{name: "checkpoint", path: cl + "Cluster0/checkpoints/" + sample, who: reader, status: 200},
		{name: "checkpoint not restorable", path: broken, who: reader, status: 200},
		{name: "checkpoint bad pretty", path: broken + "?pretty=maybe", who: reader, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "checkpoint no credentials", path: broken, who: nobody, status: 401},
		{name: "checkpoint member", path: broken, who: member, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "checkpoint outsider", path: broken, who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "checkpoint invalid id", path: cl + "Cluster0/checkpoints/xyz", who: reader, status: 404, code: "INVALID_CHECKPOINT_ID", badRequest: true},
		{name: "checkpoint URI too long", path: broken + long, who: reader, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "checkpoint headers too large", path: broken, who: reader, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},

		{name: "report", method: http.MethodPut, path: report, who: backupManager, body: skipped, status: 201},
		{name: "report again", method: http.MethodPut, path: report, who: owner, body: skipped, status: 200},
		{name: "report another record", method: http.MethodPut, path: report, who: owner, body: `{"outcome":"FAILED","reason":"STEP_FAILED","detail":"x"}`, status: 409, code: "DUPLICATE_SLOT"},
		{name: "report MISSED", method: http.MethodPut, path: report, who: owner, body: `{"outcome":"MISSED","reason":"AGENT_NOT_RUNNING"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "outcome", badRequest: true},
		{name: "report without reason", method: http.MethodPut, path: report, who: owner, body: `{"outcome":"FAILED"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "reason"},
		{name: "report off the grid", method: http.MethodPut, path: cl + "Slots/slots/" + slot.Add(time.Minute).Format(time.RFC3339), who: owner, body: skipped, status: 400, code: "INVALID_ATTRIBUTE", mention: "slot"},
		{name: "report bad slot", method: http.MethodPut, path: cl + "Slots/slots/soon", who: owner, body: skipped, status: 400, code: "INVALID_ATTRIBUTE", mention: "slot"},
		{name: "report read only", method: http.MethodPut, path: report, who: reader, body: skipped, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "report no credentials", method: http.MethodPut, path: report, who: nobody, body: skipped, status: 401},
		{name: "report outsider", method: http.MethodPut, path: report, who: outsider, body: skipped, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "report unknown cluster", method: http.MethodPut, path: cl + "Nope/slots/" + slot.Format(time.RFC3339), who: owner, body: skipped, status: 404, code: "CLUSTER_NOT_FOUND"},
		{name: "report body too large", method: http.MethodPut, path: report, who: owner, body: `{"outcome":"FAILED","detail":"` + strings.Repeat("a", 70000) + `"}`, status: 413, code: "REQUEST_TOO_LARGE", badRequest: true},
		{name: "report URI too long", method: http.MethodPut, path: report + long, who: owner, body: skipped, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "report form body", method: http.MethodPut, path: report, who: owner, body: skipped, headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE", badRequest: true},
		{name: "report headers too large", method: http.MethodPut, path: report, who: owner, body: skipped, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},
	} {
		tc.name = "admin slots: " + tc.name
		cs = append(cs, tc)
	}
	return cs
}

// slotRateLimitedCases are one request of each slot operation, for the
// limited server's owner: 429 once the allowance is spent.
func (e *openapiEnv) slotRateLimitedCases() []apiCase {
	cl := "/api/checkpointd/v1/groups/" + groupHex + "/clusters/"
	cp := cl + "Cluster0/checkpoints/" + e.ds.Sample["Cluster0"].Hex()
	return []apiCase{
		{name: "list slots", path: cl + "Cluster0/slots"},
		{name: "checkpoint slot", path: cp + "/slot"},
		{name: "admin checkpoint", path: cp},
		{name: "report slot", method: http.MethodPut, path: cl + "Slots/slots/" + e.slots.slots[0].Format(time.RFC3339), body: `{"outcome":"FAILED","reason":"STEP_FAILED","detail":"x"}`},
	}
}
