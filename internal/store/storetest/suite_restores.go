package storetest

import (
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// restoreBatch plans a restore of cp, a checkpoint of c, as the API
// does, and returns its jobs carried out by driver.
func (f *fixture) restoreBatch(c backup.Cluster, cp backup.Checkpoint, driver backup.Driver, created time.Time) []backup.RestoreJob {
	plan := backup.PlanRestore(&c, &cp, cp.Timestamp)
	return plan.RestoreJobs(f.ids, created, backup.RestoreTarget{GroupID: c.GroupID, ClusterName: c.Name}, driver)
}

// testRestoreJobs: a batch is stored whole and read back as it was
// created, listed by id (config server first), filtered by batch, paged
// and counted; an unknown job is RESTORE_JOB_NOT_FOUND; another cluster's
// job is not found through this one; references resolve as for
// checkpoints.
func testRestoreJobs(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 2)
	created := t0.Add(time.Hour)
	b1 := f.restoreBatch(f.sharded, cps[0], backup.DriverSimulated, created)
	b2 := f.restoreBatch(f.sharded, cps[1], backup.DriverAgent, created.Add(time.Minute))
	if len(b1) != 3 {
		t.Fatalf("batch of %d jobs, want 3 (two shards and the config server)", len(b1))
	}
	f.must(f.s.CreateRestoreJobs(f.ctx, b1))
	f.must(f.s.CreateRestoreJobs(f.ctx, b2))
	for name, ref := range refs(f.sharded) {
		p, err := f.s.RestoreJobs(f.ctx, ref, backup.ObjectID{}, backup.PageRequest{Num: 1, Size: 100, IncludeCount: true})
		f.must(err)
		if len(p.Items) != 6 || p.Total != 6 {
			t.Fatalf("%s: %d jobs, total %d, want 6", name, len(p.Items), p.Total)
		}
		for i, want := range append(b1[:len(b1):len(b1)], b2...) {
			got := p.Items[i]
			if got.ID != want.ID || got.BatchID != want.BatchID || got.CheckpointID != want.CheckpointID ||
				got.Part != want.Part || got.Status != backup.RestoreInProgress || got.Driver != want.Driver ||
				!got.Created.Equal(want.Created) || !got.Due.Equal(want.Due) || got.Target != want.Target ||
				got.ClusterName != f.sharded.Name || got.GroupID != f.sharded.GroupID || got.ClusterID != f.sharded.ID {
				t.Fatalf("%s: job %d = %+v, want %+v", name, i, got, want)
			}
		}
		if p.Items[0].Part.Type != backup.PartConfigReplicaSet {
			t.Errorf("%s: first job restores %s, want the config server", name, p.Items[0].Part.Type)
		}
		p, err = f.s.RestoreJobs(f.ctx, ref, b2[0].BatchID, backup.PageRequest{Num: 2, Size: 2, IncludeCount: true})
		f.must(err)
		if len(p.Items) != 1 || p.Total != 3 || p.Items[0].ID != b2[2].ID {
			t.Fatalf("%s: batch page 2 of 2 = %d jobs, total %d, want the batch's third of 3", name, len(p.Items), p.Total)
		}
		j, err := f.s.RestoreJob(f.ctx, ref, b1[1].ID)
		f.must(err)
		if j.ID != b1[1].ID || j.Part != b1[1].Part {
			t.Fatalf("%s: RestoreJob = %+v, want %+v", name, j, b1[1])
		}
		if _, err := f.s.RestoreJob(f.ctx, ref, f.ids.New(t0)); !backup.IsCode(err, backup.CodeRestoreJobNotFound) {
			t.Fatalf("%s: unknown job: %v, want RESTORE_JOB_NOT_FOUND", name, err)
		}
	}
	other := f.newCluster(f.project.ID, "Other", backup.Sharded, backup.BackupLegacy)
	if _, err := f.s.RestoreJob(f.ctx, byName(other), b1[0].ID); !backup.IsCode(err, backup.CodeRestoreJobNotFound) {
		t.Fatalf("another cluster's job: %v, want RESTORE_JOB_NOT_FOUND", err)
	}
	p, err := f.s.RestoreJobs(f.ctx, byName(other), backup.ObjectID{}, backup.PageRequest{Num: 1, Size: 10})
	f.must(err)
	if len(p.Items) != 0 {
		t.Fatalf("another cluster lists %d jobs", len(p.Items))
	}
	if _, err := f.s.RestoreJobs(f.ctx, byName(f.cloud), backup.ObjectID{}, backup.PageRequest{Num: 1, Size: 10}); !backup.IsCode(err, backup.CodeCheckpointsOnlyLegacy) {
		t.Fatalf("cluster on Cloud Backup: %v", err)
	}
	missing := backup.ClusterRef{GroupID: f.project.ID, Name: "Missing"}
	if _, err := f.s.RestoreJob(f.ctx, missing, b1[0].ID); !backup.IsCode(err, backup.CodeClusterNotFound) {
		t.Fatalf("unknown cluster: %v", err)
	}
	// Deleting the cluster deletes its jobs.
	f.must(f.s.DeleteCluster(f.ctx, byID(f.sharded)))
}

// testRestoreJobsLifecycle: the engine finishes simulated jobs once due,
// and only them; an agent claims agent jobs one at a time (its own
// unreported claim again first), reports a final status once (a retry is
// a no-op), and cannot report another agent's job or change a final one.
func testRestoreJobsLifecycle(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 2)
	created := t0.Add(time.Hour)
	sim := f.restoreBatch(f.sharded, cps[0], backup.DriverSimulated, created)
	agent := f.restoreBatch(f.sharded, cps[1], backup.DriverAgent, created)
	f.must(f.s.CreateRestoreJobs(f.ctx, sim))
	f.must(f.s.CreateRestoreJobs(f.ctx, agent))
	ref := byName(f.sharded)

	if n, next, err := f.s.FinishDueRestoreJobs(f.ctx, created.Add(time.Minute)); err != nil || n != 0 || !next.Equal(sim[0].Due) {
		t.Fatalf("FinishDueRestoreJobs before due = %d, next %v, %v; want 0, next %v", n, next, err, sim[0].Due)
	}
	// The config server's job (first) is due before the shards'.
	if n, next, err := f.s.FinishDueRestoreJobs(f.ctx, sim[0].Due); err != nil || n != 1 || !next.Equal(sim[1].Due) {
		t.Fatalf("FinishDueRestoreJobs at the config server's due time = %d, next %v, %v; want 1, next %v", n, next, err, sim[1].Due)
	}
	if n, next, err := f.s.FinishDueRestoreJobs(f.ctx, sim[1].Due); err != nil || n != 2 || !next.IsZero() {
		t.Fatalf("FinishDueRestoreJobs at the shards' due time = %d, next %v, %v; want 2, none next", n, next, err)
	}
	j, err := f.s.RestoreJob(f.ctx, ref, sim[0].ID)
	f.must(err)
	if j.Status != backup.RestoreFinished || !j.Finished.Equal(sim[0].Due) {
		t.Fatalf("simulated job after due: %s finished %v, want FINISHED at %v", j.Status, j.Finished, sim[0].Due)
	}
	if j, _ := f.s.RestoreJob(f.ctx, ref, agent[0].ID); j.Status != backup.RestoreInProgress {
		t.Fatalf("agent job finished by the engine: %s", j.Status)
	}

	a, ok, err := f.s.ClaimRestoreJob(f.ctx, ref, "agent-a")
	f.must(err)
	if !ok || a.ID != agent[0].ID || a.Owner != "agent-a" {
		t.Fatalf("first claim = %v %+v, want job %s", ok, a, agent[0].ID.Hex())
	}
	if again, _, _ := f.s.ClaimRestoreJob(f.ctx, ref, "agent-a"); again.ID != a.ID {
		t.Fatalf("a second claim by the same agent = %s, want its own %s again", again.ID.Hex(), a.ID.Hex())
	}
	b, ok, err := f.s.ClaimRestoreJob(f.ctx, ref, "agent-b")
	f.must(err)
	if !ok || b.ID != agent[1].ID {
		t.Fatalf("another agent's claim = %v %s, want %s", ok, b.ID.Hex(), agent[1].ID.Hex())
	}
	now := created.Add(10 * time.Minute)
	if _, err := f.s.ReportRestoreJob(f.ctx, ref, a.ID, backup.RestoreFinished, "agent-b", now); !backup.IsCode(err, backup.CodeInvalidRestoreJobTransition) {
		t.Fatalf("report of another agent's job: %v", err)
	}
	if _, err := f.s.ReportRestoreJob(f.ctx, ref, a.ID, backup.RestoreInProgress, "agent-a", now); !backup.IsCode(err, backup.CodeInvalidRestoreJobTransition) {
		t.Fatalf("report of IN_PROGRESS: %v", err)
	}
	done, err := f.s.ReportRestoreJob(f.ctx, ref, a.ID, backup.RestoreBroken, "agent-a", now)
	f.must(err)
	if done.Status != backup.RestoreBroken || !done.Finished.Equal(now) {
		t.Fatalf("reported job = %s at %v", done.Status, done.Finished)
	}
	if _, err := f.s.ReportRestoreJob(f.ctx, ref, a.ID, backup.RestoreBroken, "agent-a", now.Add(time.Minute)); err != nil {
		t.Fatalf("the same report again: %v, want a no-op", err)
	}
	if _, err := f.s.ReportRestoreJob(f.ctx, ref, a.ID, backup.RestoreFinished, "agent-a", now); !backup.IsCode(err, backup.CodeInvalidRestoreJobTransition) {
		t.Fatalf("changing a final status: %v", err)
	}
	if _, err := f.s.ReportRestoreJob(f.ctx, ref, sim[0].ID, backup.RestoreKilled, "agent-a", now); !backup.IsCode(err, backup.CodeInvalidRestoreJobTransition) {
		t.Fatalf("report of a simulated job: %v", err)
	}
	c, ok, err := f.s.ClaimRestoreJob(f.ctx, ref, "agent-a")
	f.must(err)
	if !ok || c.ID != agent[2].ID {
		t.Fatalf("claim after reporting = %v %s, want the last open job %s", ok, c.ID.Hex(), agent[2].ID.Hex())
	}
	if _, ok, _ := f.s.ClaimRestoreJob(f.ctx, ref, "agent-c"); ok {
		t.Fatal("a claim with every job claimed succeeded")
	}
	// Read-only callers may read jobs, not create, claim or report them.
	ro := &backup.Principal{Kind: backup.APIKeyPrincipal, ID: "ro", OrgID: f.org.ID,
		Grants: []backup.Grant{projectGrant(backup.ProjectReadOnly, f.project.ID)}}
	if _, err := f.s.RestoreJob(f.as(ro), ref, a.ID); err != nil {
		t.Fatalf("read-only read: %v", err)
	}
	for name, err := range map[string]error{
		"create": f.s.CreateRestoreJobs(f.as(ro), f.restoreBatch(f.sharded, cps[0], backup.DriverAgent, now)),
		"claim":  func() error { _, _, err := f.s.ClaimRestoreJob(f.as(ro), ref, "x"); return err }(),
	} {
		if !backup.IsCode(err, backup.CodeUserUnauthorized) {
			t.Errorf("read-only %s: %v, want USER_UNAUTHORIZED", name, err)
		}
	}
	bm := &backup.Principal{Kind: backup.APIKeyPrincipal, ID: "bm", OrgID: f.org.ID,
		Grants: []backup.Grant{projectGrant(backup.ProjectBackupManager, f.project.ID)}}
	f.must(f.s.CreateRestoreJobs(f.as(bm), f.restoreBatch(f.sharded, cps[0], backup.DriverAgent, now)))
}
