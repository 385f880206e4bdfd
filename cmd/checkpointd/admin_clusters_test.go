package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// clusterItem returns the cluster named name in project's clusters list
// --output json, failing the test if it is not there.
func clusterItem(t *testing.T, db, project, name string) map[string]any {
	t.Helper()
	for _, c := range listJSON(t, db, "clusters", "list", "--project", project) {
		if c["name"] == name {
			return c
		}
	}
	t.Fatalf("no cluster %s in project %s", name, project)
	return nil
}

// clusterRow returns the table row of cluster name, as header → cell.
func clusterRow(t *testing.T, db, project, name string) map[string]string {
	t.Helper()
	rows := table(t, mustAdmin(t, db, "clusters", "list", "--project", project))
	for _, r := range rows[1:] {
		if r[1] == name {
			m := map[string]string{}
			for i, h := range rows[0] {
				m[h] = r[i]
			}
			return m
		}
	}
	t.Fatalf("no row of cluster %s in %q", name, rows)
	return nil
}

// adminProject makes a database with an organization and a project, and
// returns the database and the project's id.
func adminProject(t *testing.T) (db, project string) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "admin.db")
	org := strings.TrimSpace(mustAdmin(t, db, "orgs", "create", "--name", "Acme"))
	project = strings.TrimSpace(mustAdmin(t, db, "projects", "create", "--org", org, "--name", "prod"))
	return db, project
}

// TestAdminClusterSchedule creates clusters with each schedule flag and
// checks what clusters list shows of them, in the table and in JSON.
func TestAdminClusterSchedule(t *testing.T) {
	db, project := adminProject(t)
	for _, tt := range []struct {
		name   string
		args   []string
		backup string // the JSON backup object
		row    string // TYPE|BACKUP|DRIVER|INTERVAL|WINDOW
	}{
		{"defaults", nil,
			`{"driver":"AGENT","kind":"LEGACY","pointInTimeWindowHours":24,"statusName":"STARTED"}`, "REPLICA_SET|legacy|agent|off|24h"},
		{"simulated every 15 minutes", []string{"--shards", "2", "--driver", "simulated", "--interval-min", "15"},
			`{"clusterCheckpointIntervalMin":15,"driver":"SIMULATED","kind":"LEGACY","pointInTimeWindowHours":24,"statusName":"STARTED"}`, "SHARDED|legacy|simulated|15m|24h"},
		{"agent every 30 minutes for 48 hours", []string{"--shards", "1", "--driver", "agent", "--interval-min", "30m", "--window-hours", "48"},
			`{"clusterCheckpointIntervalMin":30,"driver":"AGENT","kind":"LEGACY","pointInTimeWindowHours":48,"statusName":"STARTED"}`, "SHARDED|legacy|agent|30m|48h"},
		{"hourly for an hour", []string{"--shards", "3", "--driver", "SIMULATED", "--interval-min", "60", "--window-hours", "1"},
			`{"clusterCheckpointIntervalMin":60,"driver":"SIMULATED","kind":"LEGACY","pointInTimeWindowHours":1,"statusName":"STARTED"}`, "SHARDED|legacy|simulated|60m|1h"},
		{"longest window and checkpoints off", []string{"--driver", "simulated", "--interval-min", "off", "--window-hours", "720"},
			`{"driver":"SIMULATED","kind":"LEGACY","pointInTimeWindowHours":720,"statusName":"STARTED"}`, "REPLICA_SET|legacy|simulated|off|720h"},
		{"interval zero on a replica set", []string{"--interval-min", "0", "--backup", "cloud"},
			`{"driver":"AGENT","kind":"CLOUD","pointInTimeWindowHours":24,"statusName":"INACTIVE"}`, "REPLICA_SET|cloud|agent|off|24h"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "c-" + strings.ReplaceAll(tt.name, " ", "-")
			out := mustAdmin(t, db, append([]string{"clusters", "create", "--project", project, "--name", name}, tt.args...)...)
			if !hexID.MatchString(out) {
				t.Fatalf("clusters create printed %q, want an id", out)
			}
			if got := jsonText(clusterItem(t, db, project, name)["backup"]); got != tt.backup {
				t.Errorf("backup %s, want %s", got, tt.backup)
			}
			r := clusterRow(t, db, project, name)
			if got := strings.Join([]string{r["TYPE"], r["BACKUP"], r["DRIVER"], r["INTERVAL"], r["WINDOW"]}, "|"); got != tt.row {
				t.Errorf("row %s, want %s", got, tt.row)
			}
		})
	}
}

// TestAdminClusterScheduleErrors: bad schedule values are refused with
// the domain's error, naming the flag, and nothing is created.
func TestAdminClusterScheduleErrors(t *testing.T) {
	db, project := adminProject(t)
	create := func(args ...string) []string {
		return append([]string{"clusters", "create", "--project", project, "--name", "c"}, args...)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"interval 20", create("--shards", "2", "--interval-min", "20"),
			"--interval-min: Invalid attribute clusterCheckpointIntervalMin specified: a checkpoint interval is 15, 30 or 60 minutes, not 20m0s. (INVALID_ATTRIBUTE)"},
		{"negative interval", create("--shards", "2", "--interval-min", "-15"), `--interval-min: Invalid attribute clusterCheckpointIntervalMin specified: "-15" is not a number of minutes`},
		{"interval not a number", create("--shards", "2", "--interval-min", "hourly"), `"hourly" is not a number of minutes; use 15, 30, 60, or off (0) for no checkpoints. (INVALID_ATTRIBUTE)`},
		{"interval on a replica set", create("--interval-min", "15"),
			"--interval-min: Cluster checkpoint interval can only be set for sharded clusters, not replica sets. (CANNOT_SET_CLUSTER_CHECKPOINT_INTERVAL_FOR_REPLICA_SET)"},
		{"interval under cloud backup", create("--shards", "2", "--interval-min", "15", "--backup", "cloud"),
			"--interval-min: Invalid attribute clusterCheckpointIntervalMin specified: checkpoints exist only under legacy backup"},
		{"window 0", create("--window-hours", "0"),
			"--window-hours: Invalid attribute pointInTimeWindowHours specified: a window is from 1 to 720 hours. (INVALID_ATTRIBUTE)"},
		{"window negative", create("--window-hours", "-1"), "--window-hours: Invalid attribute pointInTimeWindowHours specified"},
		{"window 721", create("--window-hours", "721"),
			"--window-hours: Invalid attribute pointInTimeWindowHours specified: a window is from 1 to 720 hours. (INVALID_ATTRIBUTE)"},
		{"window not a number", create("--window-hours", "1d"), `invalid argument "1d" for "--window-hours" flag`},
		{"window not whole", create("--window-hours", "1.5"), `invalid argument "1.5" for "--window-hours" flag`},
		{"unknown driver", create("--driver", "robot"),
			`--driver: Unknown driver "robot": use agent (a backup agent reports the checkpoints) or simulated (the server takes them of a simulated cluster). (INVALID_ATTRIBUTE)`},
		{"empty driver", create("--driver", ""), `--driver: Unknown driver ""`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runAdmin(t, db, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v: error %v, want one containing %q", tt.args, err, tt.want)
			}
			if out != "" {
				t.Errorf("printed %q on error", out)
			}
		})
	}
	if items := listJSON(t, db, "clusters", "list", "--project", project); len(items) != 0 {
		t.Errorf("refused clusters were created: %v", items)
	}
}

// TestAdminClusterUpdate changes each field of a cluster in turn: each
// step changes what it names and leaves the rest as it was.
func TestAdminClusterUpdate(t *testing.T) {
	db, project := adminProject(t)
	id := strings.TrimSpace(mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Cluster0", "--shards", "2"))
	mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Other")
	name := "Cluster0"
	want := map[string]any{}
	for k, v := range clusterItem(t, db, project, name) {
		want[k] = v
	}
	shardNames := func(n ...string) []any {
		out := []any{}
		for _, s := range n {
			out = append(out, map[string]any{"name": s, "replicaSetName": s})
		}
		return out
	}
	backupOf := func(kind, driver string, interval, window int) map[string]any {
		status := "STARTED"
		if kind != "LEGACY" {
			status = "INACTIVE"
		}
		b := map[string]any{"kind": kind, "driver": driver, "pointInTimeWindowHours": float64(window), "statusName": status}
		if interval != 0 {
			b["clusterCheckpointIntervalMin"] = float64(interval)
		}
		return b
	}
	for _, tt := range []struct {
		name    string
		args    []string
		printed string // the tail of what update prints after the project's id
		changes map[string]any
	}{
		{"driver", []string{"--driver", "simulated"}, "driver simulated, interval off, window 24h",
			map[string]any{"backup": backupOf("LEGACY", "SIMULATED", 0, 24)}},
		{"interval", []string{"--interval-min", "15"}, "driver simulated, interval 15m, window 24h",
			map[string]any{"backup": backupOf("LEGACY", "SIMULATED", 15, 24)}},
		{"window", []string{"--window-hours", "72"}, "driver simulated, interval 15m, window 72h",
			map[string]any{"backup": backupOf("LEGACY", "SIMULATED", 15, 72)}},
		{"interval and driver together", []string{"--interval-min", "60m", "--driver", "agent"}, "driver agent, interval 60m, window 72h",
			map[string]any{"backup": backupOf("LEGACY", "AGENT", 60, 72)}},
		{"interval off", []string{"--interval-min", "off"}, "driver agent, interval off, window 72h",
			map[string]any{"backup": backupOf("LEGACY", "AGENT", 0, 72)}},
		{"interval 30", []string{"--interval-min", "30"}, "driver agent, interval 30m, window 72h",
			map[string]any{"backup": backupOf("LEGACY", "AGENT", 30, 72)}},
		{"interval 0 turns off", []string{"--interval-min", "0"}, "driver agent, interval off, window 72h",
			map[string]any{"backup": backupOf("LEGACY", "AGENT", 0, 72)}},
		{"backup kind", []string{"--backup", "cloud"}, "driver agent, interval off, window 72h",
			map[string]any{"backup": backupOf("CLOUD", "AGENT", 0, 72)}},
		{"backup kind back", []string{"--backup", "legacy"}, "driver agent, interval off, window 72h",
			map[string]any{"backup": backupOf("LEGACY", "AGENT", 0, 72)}},
		{"version", []string{"--mongodb-version", "4.2.24"}, "driver agent, interval off, window 72h",
			map[string]any{"mongoDBVersion": "4.2.24"}},
		{"more shards", []string{"--shards", "4"}, "driver agent, interval off, window 72h",
			map[string]any{"shards": shardNames("Cluster0-shard-0", "Cluster0-shard-1", "Cluster0-shard-2", "Cluster0-shard-3")}},
		{"fewer shards", []string{"--shards", "1"}, "driver agent, interval off, window 72h",
			map[string]any{"shards": shardNames("Cluster0-shard-0")}},
		{"mirrored config servers", []string{"--config-servers", "mirrored", "--mongodb-version", "3.2.22"}, "driver agent, interval off, window 72h",
			map[string]any{"mongoDBVersion": "3.2.22", "configServer": "mirrored"}},
		{"config server replica set", []string{"--config-servers", "csrs"}, "driver agent, interval off, window 72h",
			map[string]any{"configServer": map[string]any{"replicaSetName": "Cluster0-config-0"}}},
		{"rename", []string{"--name", "Payments"}, "driver agent, interval off, window 72h",
			map[string]any{"name": "Payments"}},
		{"shards after a rename", []string{"--shards", "2", "--interval-min", "15", "--driver", "simulated"}, "driver simulated, interval 15m, window 72h",
			map[string]any{"shards": shardNames("Cluster0-shard-0", "Payments-shard-0"), "backup": backupOf("LEGACY", "SIMULATED", 15, 72)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := mustAdmin(t, db, append([]string{"clusters", "update", "--project", project, name}, tt.args...)...)
			newName, _ := tt.changes["name"].(string)
			head := "updated cluster " + name + " of project " + project + ": "
			if newName != "" {
				head = "updated cluster " + newName + " (was " + name + ") of project " + project + ": "
				name = newName
			}
			if out != head+tt.printed+"\n" {
				t.Errorf("printed %q, want %q", out, head+tt.printed+"\n")
			}
			for k, v := range tt.changes {
				want[k] = v
			}
			got := clusterItem(t, db, project, name)
			// Mirrored config servers get new random host ids: three of
			// them are what is wanted.
			if hosts, ok := got["configServer"].(map[string]any)["hostIds"].([]any); want["configServer"] == "mirrored" && ok && len(hosts) == 3 {
				want["configServer"] = got["configServer"]
			}
			if jsonText(got) != jsonText(want) {
				t.Errorf("cluster after update:\n%s\nwant\n%s", jsonText(got), jsonText(want))
			}
			if got["id"] != id {
				t.Errorf("id %v, want %s", got["id"], id)
			}
		})
	}
	r := clusterRow(t, db, project, "Payments")
	if got := strings.Join([]string{r["TYPE"], r["SHARDS"], r["CONFIG SERVERS"], r["VERSION"], r["BACKUP"], r["DRIVER"], r["INTERVAL"], r["WINDOW"]}, "|"); got != "SHARDED|2|csrs|3.2.22|legacy|simulated|15m|72h" {
		t.Errorf("row %s", got)
	}
	if other := clusterItem(t, db, project, "Other"); jsonText(other["backup"]) != `{"driver":"AGENT","kind":"LEGACY","pointInTimeWindowHours":24,"statusName":"STARTED"}` {
		t.Errorf("another cluster changed: %v", other)
	}
}

// TestAdminClusterUpdateErrors: every refused update leaves the clusters
// as they were, with a message naming what is wrong.
func TestAdminClusterUpdateErrors(t *testing.T) {
	db, project := adminProject(t)
	mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Sharded", "--shards", "2", "--driver", "simulated", "--interval-min", "15")
	mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "RS")
	otherProject := strings.TrimSpace(mustAdmin(t, db, "projects", "create", "--org",
		listJSON(t, db, "orgs", "list")[0]["id"].(string), "--name", "staging"))
	before := jsonText(listJSON(t, db, "clusters", "list", "--project", project))
	unknown := "0123456789abcdef01234567"
	update := func(cluster string, args ...string) []string {
		return append([]string{"clusters", "update", "--project", project, cluster}, args...)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown cluster", update("Nope", "--driver", "agent"), "No cluster named Nope exists in group " + project + ". (CLUSTER_NOT_FOUND)"},
		{"cluster of another project", []string{"clusters", "update", "--project", otherProject, "Sharded", "--driver", "agent"}, "(CLUSTER_NOT_FOUND)"},
		{"unknown project", []string{"clusters", "update", "--project", unknown, "Sharded", "--driver", "agent"}, "No group with ID " + unknown + " exists. (GROUP_NOT_FOUND)"},
		{"malformed project", []string{"clusters", "update", "--project", "prod", "Sharded", "--driver", "agent"}, `--project: "prod" is not a project id`},
		{"project missing", []string{"clusters", "update", "Sharded", "--driver", "agent"}, "--project is required"},
		{"name missing", []string{"clusters", "update", "--project", project, "--driver", "agent"}, "accepts 1 arg(s), received 0"},
		{"nothing to change", update("Sharded"), "nothing to change: give at least one of --driver"},
		{"rename to a taken name", update("Sharded", "--name", "RS"), "A cluster named RS already exists in group " + project + ". (DUPLICATE_CLUSTER_NAME)"},
		{"rename to an invalid name", update("Sharded", "--name", "my_cluster"), `Cluster name "my_cluster" is invalid`},
		{"sharded to replica set", update("Sharded", "--shards", "0"), "The type of a cluster cannot change: Sharded is a sharded cluster, which keeps 1 to 100 shards. (INVALID_ATTRIBUTE)"},
		{"replica set to sharded", update("RS", "--shards", "2"), "The type of a cluster cannot change: RS is a replica set, which has no shards. (INVALID_ATTRIBUTE)"},
		{"config servers of a replica set", update("RS", "--config-servers", "csrs"), "--config-servers: Invalid attribute configServer specified: a replica set has no config servers."},
		{"too many shards", update("Sharded", "--shards", "101"), "not 101"},
		{"unknown config servers", update("Sharded", "--config-servers", "sccc"), `--config-servers: Unknown config server kind "sccc"`},
		{"mirrored on 4.4", update("Sharded", "--config-servers", "mirrored"), "Mirrored config servers (SCCC) ended with MongoDB 3.2; MongoDB 4.4.29 needs"},
		{"bad version", update("Sharded", "--mongodb-version", "4.4"), `MongoDB version "4.4" is not of the form MAJOR.MINOR.PATCH`},
		{"bad backup kind", update("Sharded", "--backup", "tape"), `--backup: Unknown backup kind "tape"`},
		{"cloud backup with checkpoints on", update("Sharded", "--backup", "cloud"),
			"--backup: Invalid attribute clusterCheckpointIntervalMin specified: checkpoints exist only under legacy backup"},
		{"interval on a replica set", update("RS", "--interval-min", "30"),
			"--interval-min: Cluster checkpoint interval can only be set for sharded clusters, not replica sets. (CANNOT_SET_CLUSTER_CHECKPOINT_INTERVAL_FOR_REPLICA_SET)"},
		{"interval 20", update("Sharded", "--interval-min", "20"), "--interval-min: Invalid attribute clusterCheckpointIntervalMin specified: a checkpoint interval is 15, 30 or 60 minutes, not 20m0s."},
		{"interval not a number", update("Sharded", "--interval-min", "never"), `--interval-min: Invalid attribute clusterCheckpointIntervalMin specified: "never" is not a number of minutes`},
		{"window 0", update("Sharded", "--window-hours", "0"), "--window-hours: Invalid attribute pointInTimeWindowHours specified: a window is from 1 to 720 hours."},
		{"window 721", update("Sharded", "--window-hours", "721"), "--window-hours: Invalid attribute pointInTimeWindowHours specified"},
		{"window not a number", update("Sharded", "--window-hours", "week"), `invalid argument "week" for "--window-hours" flag`},
		{"unknown driver", update("Sharded", "--driver", "cron"), `--driver: Unknown driver "cron"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runAdmin(t, db, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v: error %v, want one containing %q", tt.args, err, tt.want)
			}
			if out != "" {
				t.Errorf("printed %q on error", out)
			}
		})
	}
	if after := jsonText(listJSON(t, db, "clusters", "list", "--project", project)); after != before {
		t.Errorf("refused updates changed the clusters:\n%s\nwas\n%s", after, before)
	}
}

// TestServeFollowsAdminClusters runs serve without --demo on a database
// and a virtual clock, creates a cluster with `clusters create --driver
// simulated --interval-min 15` while it runs, and moves the clock two
// hours on: the engine takes the cluster's checkpoints on the 15-minute
// grid. `clusters update --interval-min off` then stops it.
func TestServeFollowsAdminClusters(t *testing.T) {
	db, project := adminProject(t)
	start := time.Date(2026, 11, 23, 12, 0, 7, 0, time.UTC)
	clk := clock.NewVirtual(start)
	_, _, logs := startServeOn(t, clk, noEnv, "--database", db, "--engine-refresh", "20ms", "--log-level", "debug")
	mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Sim", "--shards", "2", "--driver", "simulated", "--interval-min", "15")

	end := start.Add(2*time.Hour - 5*time.Minute)
	guard, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if err := clk.BlockUntil(guard, 1); err != nil {
			t.Fatalf("the cluster created does not wait on the clock at %v; log:\n%s", clk.Now(), logs.String())
		}
		next, _ := clk.Next()
		if next.After(end) {
			break
		}
		clk.AdvanceTo(next)
	}

	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ref := backup.ClusterRef{GroupID: mustObjectID(t, project), Name: "Sim"}
	page, err := st.Checkpoints(backup.WithPrincipal(context.Background(), backup.System), ref, backup.PageRequest{Num: 1, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	// Seven slots from 12:15 to 13:45; a sharded cluster may skip a slot
	// whose balancer would not stop.
	if len(page.Items) < 4 || len(page.Items) > 7 {
		t.Errorf("%d checkpoints in two hours every 15 minutes; log:\n%s", len(page.Items), logs.String())
	}
	for _, cp := range page.Items {
		if ts := cp.Timestamp; ts.Before(start) || ts.After(end) || ts.Truncate(15*time.Minute) != ts.Truncate(time.Second) {
			t.Errorf("checkpoint at %v, not on the 15-minute grid between %v and %v", ts, start, end)
		}
	}
	if !strings.Contains(logs.String(), `msg="checkpoint schedule started" component=engine cluster=Sim interval=15m0s`) {
		t.Errorf("no log line of the schedule started:\n%.3000s", logs.String())
	}

	mustAdmin(t, db, "clusters", "update", "--project", project, "Sim", "--interval-min", "off")
	for clk.Sleepers() > 0 {
		if guard.Err() != nil {
			t.Fatalf("the cluster's loop still waits on the clock after its checkpoints were turned off; log:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `msg="checkpoint schedule stopped" component=engine cluster=Sim`) {
		t.Errorf("no log line of the schedule stopped:\n%.3000s", logs.String())
	}
}

// TestClusterFlagCompletion: the schedule flags complete their values.
func TestClusterFlagCompletion(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"clusters", "create", "--driver", ""}, []string{"agent\ta backup agent reports the checkpoints", "simulated\tserve's engine takes them"}},
		{[]string{"clusters", "update", "--driver", ""}, []string{"agent\ta backup agent reports the checkpoints", "simulated\tserve's engine takes them"}},
		{[]string{"clusters", "create", "--interval-min", ""}, []string{"15", "30", "60", "off"}},
		{[]string{"clusters", "update", "--interval-min", ""}, []string{"15", "30", "60", "off"}},
	} {
		out, _, err := runCmd(t, noEnv, append([]string{"__complete"}, tt.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "Completion ended") {
				got = append(got, l)
			}
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("__complete %q: %q, want %q", tt.args, got, tt.want)
		}
	}
}

func mustObjectID(t *testing.T, hex string) backup.ObjectID {
	t.Helper()
	id, ok := backup.ParseObjectID(hex)
	if !ok {
		t.Fatalf("%q is not an id", hex)
	}
	return id
}

// TestNameFlagByAttribute: the flag blamed for a domain error is the one
// that sets the attribute the error names (backup.Error.Attr), when it was
// given; the detail text plays no part.
func TestNameFlagByAttribute(t *testing.T) {
	attrErr := func(attr, detail string) error {
		e := backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "%s", detail)
		e.Attr = attr
		return e
	}
	for _, tt := range []struct {
		name  string
		given []string // flags set on the command line
		err   error
		want  string // the detail after nameFlag
	}{
		{"interval", []string{"interval-min"}, attrErr("clusterCheckpointIntervalMin", "x"), "--interval-min: x"},
		{"interval set by --backup", []string{"backup"}, attrErr("clusterCheckpointIntervalMin", "x"), "--backup: x"},
		{"interval flag first", []string{"backup", "interval-min"}, attrErr("clusterCheckpointIntervalMin", "x"), "--interval-min: x"},
		{"window", []string{"window-hours"}, attrErr("pointInTimeWindowHours", "x"), "--window-hours: x"},
		{"driver", []string{"driver"}, attrErr("backup.driver", "x"), "--driver: x"},
		{"name", []string{"name"}, attrErr("name", "x"), "--name: x"},
		{"shards", []string{"shards"}, attrErr("shards", "x"), "--shards: x"},
		{"config servers", []string{"mongodb-version", "config-servers"}, attrErr("configServer", "x"), "--config-servers: x"},
		{"config servers' version", []string{"mongodb-version"}, attrErr("configServer", "x"), "--mongodb-version: x"},
		{"version", []string{"mongodb-version"}, attrErr("mongoDBVersion", "x"), "--mongodb-version: x"},
		{"backup kind", []string{"backup"}, attrErr("backup.kind", "x"), "--backup: x"},
		{"flag not given", []string{"driver"}, attrErr("pointInTimeWindowHours", "x"), "x"},
		{"no attribute, attribute named in the text", []string{"interval-min"},
			attrErr("", "Invalid attribute clusterCheckpointIntervalMin specified"), "Invalid attribute clusterCheckpointIntervalMin specified"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := &cobra.Command{}
			for _, f := range []string{"interval-min", "backup", "window-hours", "driver", "name", "shards", "config-servers", "mongodb-version"} {
				cmd.Flags().String(f, "", "")
			}
			for _, f := range tt.given {
				if err := cmd.Flags().Set(f, "v"); err != nil {
					t.Fatal(err)
				}
			}
			if got := backup.ErrorOf(nameFlag(cmd, tt.err)).Detail; got != tt.want {
				t.Errorf("detail %q, want %q", got, tt.want)
			}
		})
	}
}
