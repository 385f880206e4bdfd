package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// slotsDemo seeds a database with two days of the demo data set and
// returns its path.
func slotsDemo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slots.db")
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), Days: 2}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSlotsCommands lists the demo's slot records with the command line,
// filtered and paged, in a table and as JSON, shows the slot of a
// checkpoint that is not restorable with its reason and steps, and
// refuses bad flags naming them.
func TestSlotsCommands(t *testing.T) {
	db := slotsDemo(t)
	project := demo.ProjectID.Hex()
	all := listJSON(t, db, "slots", "list", "--project", project, "--cluster", "Cluster0", "--items-per-page", "500")
	if len(all) < 150 {
		t.Fatalf("%d records of two days of 15-minute slots", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i]["slot"].(string) >= all[i-1]["slot"].(string) {
			t.Fatalf("record %d at %v is not older than the one before", i, all[i]["slot"])
		}
	}
	faults := listJSON(t, db, "slots", "list", "--project", project, "--cluster", "Cluster0", "--outcome", "skipped,NOT_RESTORABLE", "--items-per-page", "500")
	var broken string
	for _, r := range faults {
		switch r["outcome"] {
		case "SKIPPED":
			if r["reason"] != "BALANCER_NOT_STOPPED" {
				t.Errorf("skipped slot %v: reason %v", r["slot"], r["reason"])
			}
		case "NOT_RESTORABLE":
			if r["reason"] != "TOKEN_NOT_DISCOVERED" || r["part"] == nil {
				t.Errorf("not restorable slot %v: reason %v, part %v", r["slot"], r["reason"], r["part"])
			}
			broken, _ = r["checkpointId"].(string)
		default:
			t.Errorf("--outcome skipped,NOT_RESTORABLE listed a %v", r["outcome"])
		}
	}
	if len(faults) == 0 || broken == "" {
		t.Fatalf("the demo's faults are not listed: %v", faults)
	}
	// Paged: the second page of two is the second record.
	page := listJSON(t, db, "slots", "list", "--project", project, "--cluster", "Cluster0", "--items-per-page", "1", "--page", "2")
	if len(page) != 1 || page[0]["slot"] != all[1]["slot"] {
		t.Errorf("page 2 of size 1 = %v, want the second record", page)
	}
	// A time range: from inclusive, to exclusive.
	from, to := all[3]["slot"].(string), all[0]["slot"].(string)
	ranged := listJSON(t, db, "slots", "list", "--project", project, "--cluster", "Cluster0", "--from", from, "--to", to)
	if len(ranged) != 3 || ranged[0]["slot"] != all[1]["slot"] || ranged[2]["slot"] != from {
		t.Errorf("--from %s --to %s listed %d records", from, to, len(ranged))
	}
	rows := table(t, mustAdmin(t, db, "slots", "list", "--project", project, "--cluster", "Cluster0", "--outcome", "not_restorable"))
	if strings.Join(rows[0], " ") != "SLOT OUTCOME CHECKPOINT REASON PART DETAIL SOURCE" || len(rows) < 2 || rows[1][3] != "TOKEN_NOT_DISCOVERED" {
		t.Errorf("table %q", rows)
	}

	out := mustAdmin(t, db, "slots", "get", "--project", project, "--cluster", "Cluster0", "--checkpoint", broken)
	for _, want := range []string{"NOT_RESTORABLE", "TOKEN_NOT_DISCOVERED", "not discovered within", "BALANCER_STOPPED", "TOKEN_WRITTEN", "REPORTED"} {
		if !strings.Contains(out, want) {
			t.Errorf("slots get does not show %s:\n%s", want, out)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--outcome", "late"}, "--outcome: late is not a slot outcome"},
		{[]string{"--from", "yesterday"}, "--from: yesterday is not an ISO 8601 date and time"},
		{[]string{"--from", "2026-01-05T00:00:00Z", "--to", "2026-01-04T00:00:00Z"}, "--to: "},
		{[]string{"--page", "0"}, "--page"},
		{[]string{"--items-per-page", "501"}, "--items-per-page"},
		{[]string{"-o", "yaml"}, "--output"},
	} {
		args := append([]string{"slots", "list", "--project", project, "--cluster", "Cluster0"}, tc.args...)
		if _, err := runAdmin(t, db, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
	if _, err := runAdmin(t, db, "slots", "list", "--project", project, "--cluster", "Nope"); err == nil || !strings.Contains(err.Error(), "CLUSTER_NOT_FOUND") {
		t.Errorf("an unknown cluster: %v", err)
	}
	if _, err := runAdmin(t, db, "slots", "get", "--project", project, "--cluster", "Cluster0", "--checkpoint", "nope"); err == nil || !strings.Contains(err.Error(), "--checkpoint") {
		t.Errorf("a bad checkpoint id: %v", err)
	}
}
