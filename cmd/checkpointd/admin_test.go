package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// runAdmin runs checkpointd with args on database db and returns what it
// printed on stdout.
func runAdmin(t *testing.T, db string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append(args, "--database", db), noEnv, &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Errorf("%v wrote to stderr: %s", args, stderr.String())
	}
	return stdout.String(), err
}

// mustAdmin is runAdmin for commands that must succeed.
func mustAdmin(t *testing.T, db string, args ...string) string {
	t.Helper()
	out, err := runAdmin(t, db, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out
}

// listJSON runs a list command with --output json and decodes its array.
func listJSON(t *testing.T, db string, args ...string) []map[string]any {
	t.Helper()
	out := mustAdmin(t, db, append(args, "--output", "json")...)
	var items []map[string]any
	if err := json.Unmarshal([]byte(out), &items); err != nil || items == nil {
		t.Fatalf("%v printed %q, not a JSON array: %v", args, out, err)
	}
	return items
}

// table splits a table's output into rows of cells, checking that every
// column starts at the same offset on every line.
func table(t *testing.T, out string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	starts := columnStarts(lines[0])
	var rows [][]string
	for _, l := range lines {
		var row []string
		for i, s := range starts {
			if s > len(l) || s > 0 && l[s-1] != ' ' {
				t.Fatalf("column %d of %q does not start at %d:\n%s", i, l, s, out)
			}
			end := len(l)
			if i+1 < len(starts) {
				end = min(starts[i+1], len(l))
			}
			row = append(row, strings.TrimSpace(l[s:end]))
		}
		rows = append(rows, row)
	}
	return rows
}

// columnStarts finds where each header starts: headers are separated by
// two spaces or more.
func columnStarts(header string) []int {
	starts := []int{0}
	for _, m := range regexp.MustCompile(`  +`).FindAllStringIndex(header, -1) {
		starts = append(starts, m[1])
	}
	return starts
}

var hexID = regexp.MustCompile(`^[0-9a-f]{24}\n$`)

// TestAdminFlow is an operator's session: an organization, a project,
// clusters, an API key and a service account, listed, then deleted in the
// order the store allows.
func TestAdminFlow(t *testing.T) {
	db := filepath.Join(t.TempDir(), "admin.db")

	org := mustAdmin(t, db, "orgs", "create", "--name", "Acme Corp")
	if !hexID.MatchString(org) {
		t.Fatalf("orgs create printed %q, want an id", org)
	}
	org = strings.TrimSpace(org)
	other := strings.TrimSpace(mustAdmin(t, db, "orgs", "create", "--name", "Other"))

	project := mustAdmin(t, db, "projects", "create", "--org", org, "--name", "prod")
	if !hexID.MatchString(project) {
		t.Fatalf("projects create printed %q, want an id", project)
	}
	project = strings.TrimSpace(project)
	foreign := strings.TrimSpace(mustAdmin(t, db, "projects", "create", "--org", other, "--name", "theirs"))

	sharded := strings.TrimSpace(mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Cluster0", "--shards", "3"))
	rs := strings.TrimSpace(mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Cluster1", "--backup", "cloud"))
	old := strings.TrimSpace(mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Old", "--shards", "2",
		"--config-servers", "mirrored", "--mongodb-version", "3.2.22", "--backup", "none"))
	for _, id := range []string{sharded, rs, old} {
		if !hexID.MatchString(id + "\n") {
			t.Fatalf("clusters create printed %q, want an id", id)
		}
	}

	keyOut := mustAdmin(t, db, "keys", "create", "--org", org, "--desc", "backup reports",
		"--role", "ORG_READ_ONLY", "--project-role", project+":GROUP_BACKUP_MANAGER", "--access-list", "192.0.2.1", "--access-list", "10.0.0.0/8")
	m := regexp.MustCompile(`(?m)^api key: ([a-z]{8}):([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$`).FindStringSubmatch(keyOut)
	if m == nil {
		t.Fatalf("keys create printed no api key line:\n%s", keyOut)
	}
	public, private := m[1], m[2]
	for _, want := range []string{"public key: " + public + "\n", "private key: " + private + "\n", "cannot be shown again",
		"roles: ORG_READ_ONLY, " + project + ":GROUP_BACKUP_MANAGER\n", "access list: 192.0.2.1/32, 10.0.0.0/8\n"} {
		if !strings.Contains(keyOut, want) {
			t.Errorf("keys create output lacks %q:\n%s", want, keyOut)
		}
	}
	keyID := regexp.MustCompile(`(?m)^id: ([0-9a-f]{24})$`).FindStringSubmatch(keyOut)
	if keyID == nil {
		t.Fatalf("keys create printed no id:\n%s", keyOut)
	}
	second := mustAdmin(t, db, "keys", "create", "--org", org, "--role", "ORG_MEMBER")
	secondPublic := regexp.MustCompile(`(?m)^public key: ([a-z]{8})$`).FindStringSubmatch(second)
	if secondPublic == nil {
		t.Fatalf("keys create:\n%s", second)
	}

	saOut := mustAdmin(t, db, "service-accounts", "create", "--org", org, "--name", "exporter", "--desc", "reads checkpoints",
		"--project-role", project+":GROUP_READ_ONLY", "--secret-expires", "720h")
	clientID := regexp.MustCompile(`(?m)^client id: (mdb_sa_id_[0-9a-f]{24})$`).FindStringSubmatch(saOut)
	secret := regexp.MustCompile(`(?m)^client secret: (mdb_sa_sk_[A-Za-z0-9_-]{40})$`).FindStringSubmatch(saOut)
	if clientID == nil || secret == nil || !strings.Contains(saOut, "cannot be shown again") {
		t.Fatalf("service-accounts create printed:\n%s", saOut)
	}

	// What the commands stored verifies the credentials they printed.
	t.Run("credentials verify", func(t *testing.T) {
		st, err := sqlite.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		k, ha1, err := st.APIKey(backup.WithPrincipal(context.Background(), backup.System), public)
		if err != nil {
			t.Fatal(err)
		}
		if k.ID.Hex() != keyID[1] || k.OrgID.Hex() != org || k.Description != "backup reports" || len(k.Grants) != 2 || len(k.AccessList) != 2 {
			t.Errorf("stored key %+v", k)
		}
		if want := digest.HA1(digest.MD5, public, digest.DefaultRealm, private); ha1.MD5 != want {
			t.Errorf("stored MD5 HA1 %s, want %s", ha1.MD5, want)
		}
		if want := digest.HA1(digest.SHA256, public, digest.DefaultRealm, private); ha1.SHA256 != want {
			t.Errorf("stored SHA-256 HA1 %s, want %s", ha1.SHA256, want)
		}
		sa, secrets, err := st.ServiceAccount(backup.WithPrincipal(context.Background(), backup.System), clientID[1])
		if err != nil || len(secrets) != 1 {
			t.Fatalf("stored service account %+v, %d secrets, %v", sa, len(secrets), err)
		}
		if ok, err := oauth.CompareSecret(secrets[0].Hash, secret[1]); !ok || err != nil {
			t.Errorf("the stored hash does not verify the printed secret: %v", err)
		}
		if got := secrets[0].Expires.Sub(secrets[0].Created).Hours(); got != 720 {
			t.Errorf("secret lives %vh, want 720h", got)
		}
	})

	t.Run("orgs list", func(t *testing.T) {
		rows := table(t, mustAdmin(t, db, "orgs", "list"))
		if len(rows) != 3 || strings.Join(rows[0], "|") != "ID|NAME|CREATED" || rows[1][0] != org || rows[1][1] != "Acme Corp" || rows[2][0] != other {
			t.Errorf("rows %q", rows)
		}
		items := listJSON(t, db, "orgs", "list")
		if len(items) != 2 || items[0]["id"] != org || items[0]["name"] != "Acme Corp" || items[1]["id"] != other {
			t.Errorf("json %v", items)
		}
		if _, err := timeParse(items[0]["created"]); err != nil {
			t.Error(err)
		}
	})

	t.Run("projects list", func(t *testing.T) {
		rows := table(t, mustAdmin(t, db, "projects", "list"))
		if len(rows) != 3 || strings.Join(rows[0], "|") != "ID|ORG|NAME|CLUSTERS|CREATED" {
			t.Fatalf("rows %q", rows)
		}
		if rows[1][0] != project || rows[1][1] != org || rows[1][2] != "prod" || rows[1][3] != "3" || rows[2][0] != foreign || rows[2][3] != "0" {
			t.Errorf("rows %q", rows)
		}
		rows = table(t, mustAdmin(t, db, "projects", "list", "--org", other))
		if len(rows) != 2 || rows[1][0] != foreign {
			t.Errorf("--org rows %q", rows)
		}
		items := listJSON(t, db, "projects", "list", "--org", org)
		if len(items) != 1 || items[0]["id"] != project || items[0]["orgId"] != org || items[0]["name"] != "prod" || items[0]["clusterCount"] != 3.0 {
			t.Errorf("json %v", items)
		}
	})

	t.Run("clusters list", func(t *testing.T) {
		rows := table(t, mustAdmin(t, db, "clusters", "list", "--project", project))
		want := [][]string{
			{"ID", "NAME", "TYPE", "SHARDS", "CONFIG SERVERS", "VERSION", "BACKUP", "DRIVER", "INTERVAL", "WINDOW", "RPO", "CREATED"},
			{sharded, "Cluster0", "SHARDED", "3", "csrs", "4.4.29", "legacy", "agent", "off", "24h", "off"},
			{rs, "Cluster1", "REPLICA_SET", "-", "-", "4.4.29", "cloud", "agent", "off", "24h", "off"},
			{old, "Old", "SHARDED", "2", "mirrored", "3.2.22", "none", "agent", "off", "24h", "off"},
		}
		if len(rows) != len(want) {
			t.Fatalf("rows %q", rows)
		}
		for i, w := range want {
			if got := strings.Join(rows[i][:len(w)], "|"); got != strings.Join(w, "|") {
				t.Errorf("row %d: %s, want %s", i, got, strings.Join(w, "|"))
			}
		}
		items := listJSON(t, db, "clusters", "list", "--project", project)
		if len(items) != 3 {
			t.Fatalf("json %v", items)
		}
		c0, c1, c2 := items[0], items[1], items[2]
		if c0["id"] != sharded || c0["groupId"] != project || c0["clusterType"] != "SHARDED" || c0["links"] != nil ||
			jsonText(c0["backup"]) != `{"driver":"AGENT","kind":"LEGACY","pointInTimeWindowHours":24,"statusName":"STARTED"}` || c0["mongoDBVersion"] != "4.4.29" ||
			len(c0["shards"].([]any)) != 3 || c0["configServer"].(map[string]any)["replicaSetName"] != "Cluster0-config-0" {
			t.Errorf("sharded cluster %v", c0)
		}
		if c1["replicaSetName"] != "Cluster1-shard-0" || c1["shards"] != nil || c1["configServer"] != nil ||
			jsonText(c1["backup"]) != `{"driver":"AGENT","kind":"CLOUD","pointInTimeWindowHours":24,"statusName":"INACTIVE"}` {
			t.Errorf("replica set %v", c1)
		}
		if hosts := c2["configServer"].(map[string]any)["hostIds"].([]any); len(hosts) != 3 {
			t.Errorf("mirrored cluster %v", c2)
		}
	})

	t.Run("keys list", func(t *testing.T) {
		out := mustAdmin(t, db, "keys", "list", "--org", org)
		if strings.Contains(out, private) {
			t.Errorf("keys list prints the private key:\n%s", out)
		}
		rows := table(t, out)
		if len(rows) != 3 || strings.Join(rows[0], "|") != "ID|PUBLIC KEY|DESCRIPTION|ROLES|ACCESS LIST|CREATED" {
			t.Fatalf("rows %q", rows)
		}
		if got := strings.Join(rows[1][:5], "|"); got != keyID[1]+"|"+public+"|backup reports|ORG_READ_ONLY,"+project+":GROUP_BACKUP_MANAGER|192.0.2.1/32,10.0.0.0/8" {
			t.Errorf("row %s", got)
		}
		if rows[2][1] != secondPublic[1] || rows[2][2] != "-" || rows[2][3] != "ORG_MEMBER" || rows[2][4] != "any" {
			t.Errorf("row %q", rows[2])
		}
		raw := mustAdmin(t, db, "keys", "list", "--org", org, "-o", "json")
		if strings.Contains(raw, private) {
			t.Errorf("keys list prints the private key:\n%s", raw)
		}
		items := listJSON(t, db, "keys", "list", "--org", org)
		want := `[{"roleName":"ORG_READ_ONLY"},{"groupId":"` + project + `","roleName":"GROUP_BACKUP_MANAGER"}]`
		if len(items) != 2 || items[0]["publicKey"] != public || items[0]["desc"] != "backup reports" || jsonText(items[0]["roles"]) != want ||
			jsonText(items[0]["accessList"]) != `["192.0.2.1/32","10.0.0.0/8"]` || jsonText(items[1]["accessList"]) != `[]` {
			t.Errorf("json %v", items)
		}
		if items := listJSON(t, db, "keys", "list", "--org", other); len(items) != 0 {
			t.Errorf("other org's keys %v", items)
		}
	})

	t.Run("service-accounts list", func(t *testing.T) {
		out := mustAdmin(t, db, "service-accounts", "list", "--org", org)
		if strings.Contains(out, secret[1]) {
			t.Errorf("the secret is listed:\n%s", out)
		}
		rows := table(t, out)
		if len(rows) != 2 || strings.Join(rows[0], "|") != "CLIENT ID|NAME|DESCRIPTION|ROLES|ACCESS LIST|SECRET EXPIRES|CREATED" {
			t.Fatalf("rows %q", rows)
		}
		if got := strings.Join(rows[1][:5], "|"); got != clientID[1]+"|exporter|reads checkpoints|"+project+":GROUP_READ_ONLY|any" {
			t.Errorf("row %s", got)
		}
		expires, err1 := timeParse(rows[1][5])
		created, err2 := timeParse(rows[1][6])
		if err1 != nil || err2 != nil || expires.Sub(created).Hours() != 720 {
			t.Errorf("created %s, expires %s", rows[1][6], rows[1][5])
		}
		items := listJSON(t, db, "service-accounts", "list", "--org", org)
		if len(items) != 1 || items[0]["clientId"] != clientID[1] || items[0]["name"] != "exporter" || len(items[0]["secrets"].([]any)) != 1 {
			t.Errorf("json %v", items)
		}
		if strings.Contains(jsonText(items), "argon2") {
			t.Errorf("the secret's hash is listed: %v", items)
		}
	})

	t.Run("delete", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"orgs", "delete", org}, "(CANNOT_DELETE_ORG_ACTIVE_PROJECTS)"},
			{[]string{"projects", "delete", project}, "(CANNOT_CLOSE_GROUP_ACTIVE_CLUSTERS)"},
		} {
			if _, err := runAdmin(t, db, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v: %v, want %s", tt.args, err, tt.want)
			}
		}
		for _, name := range []string{"Cluster0", "Cluster1", "Old"} {
			if out := mustAdmin(t, db, "clusters", "delete", "--project", project, name); out != "deleted cluster "+name+" of project "+project+"\n" {
				t.Errorf("clusters delete printed %q", out)
			}
		}
		if out := mustAdmin(t, db, "clusters", "list", "--project", project, "-o", "json"); out != "[]\n" {
			t.Errorf("no clusters listed as %q", out)
		}
		if rows := table(t, mustAdmin(t, db, "clusters", "list", "--project", project)); len(rows) != 1 {
			t.Errorf("empty table %q", rows)
		}
		mustAdmin(t, db, "keys", "delete", keyID[1])
		mustAdmin(t, db, "keys", "delete", secondPublic[1])
		if out := mustAdmin(t, db, "keys", "list", "--org", org, "-o", "json"); out != "[]\n" {
			t.Errorf("keys left: %s", out)
		}
		if out := mustAdmin(t, db, "service-accounts", "delete", clientID[1]); out != "deleted service account "+clientID[1]+"\n" {
			t.Errorf("service-accounts delete printed %q", out)
		}
		if out := mustAdmin(t, db, "service-accounts", "list", "--org", org, "-o", "json"); out != "[]\n" {
			t.Errorf("service accounts left: %s", out)
		}
		mustAdmin(t, db, "projects", "delete", project)
		if out := mustAdmin(t, db, "orgs", "delete", org); out != "deleted organization "+org+"\n" {
			t.Errorf("orgs delete printed %q", out)
		}
		items := listJSON(t, db, "orgs", "list")
		if len(items) != 1 || items[0]["id"] != other {
			t.Errorf("orgs left: %v", items)
		}
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"orgs", "delete", org}, "No organization with ID " + org + " exists. (ORG_NOT_FOUND)"},
			{[]string{"projects", "delete", project}, "No group with ID " + project + " exists. (GROUP_NOT_FOUND)"},
			{[]string{"clusters", "delete", "--project", foreign, "Cluster0"}, "No cluster named Cluster0 exists in group " + foreign + ". (CLUSTER_NOT_FOUND)"},
			{[]string{"keys", "delete", keyID[1]}, "(API_KEY_NOT_FOUND)"},
			{[]string{"keys", "delete", public}, "(API_KEY_NOT_FOUND)"},
			{[]string{"service-accounts", "delete", clientID[1]}, "(SERVICE_ACCOUNT_NOT_FOUND)"},
		} {
			if _, err := runAdmin(t, db, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v again: %v, want %s", tt.args, err, tt.want)
			}
		}
	})
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAdminErrors checks that every refused input is refused before
// anything is written, with a message naming what is wrong.
func TestAdminErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "admin.db")
	org := strings.TrimSpace(mustAdmin(t, db, "orgs", "create", "--name", "Acme"))
	other := strings.TrimSpace(mustAdmin(t, db, "orgs", "create", "--name", "Other"))
	project := strings.TrimSpace(mustAdmin(t, db, "projects", "create", "--org", org, "--name", "prod"))
	foreign := strings.TrimSpace(mustAdmin(t, db, "projects", "create", "--org", other, "--name", "theirs"))
	mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Cluster0")
	unknown := "0123456789abcdef01234567"

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown subcommand", []string{"orgs", "rename"}, `unknown command "rename" for "checkpointd orgs"`},
		{"mistyped subcommand", []string{"keys", "lst"}, `unknown command "lst" for "checkpointd keys"; did you mean list?`},
		{"org name missing", []string{"orgs", "create"}, "--name is required"},
		{"org name empty", []string{"orgs", "create", "--name", ""}, "An organization needs a name. (INVALID_ATTRIBUTE)"},
		{"org id malformed", []string{"orgs", "delete", "acme"}, `organization: "acme" is not an organization id, which is 24 hexadecimal digits. (INVALID_ORG_ID)`},
		{"org delete without id", []string{"orgs", "delete"}, "accepts 1 arg(s), received 0"},
		{"project org missing", []string{"projects", "create", "--name", "p"}, "--org is required"},
		{"project of unknown org", []string{"projects", "create", "--org", unknown, "--name", "p"}, "No organization with ID " + unknown + " exists. (ORG_NOT_FOUND)"},
		{"projects of unknown org", []string{"projects", "list", "--org", unknown}, "(ORG_NOT_FOUND)"},
		{"projects list bad org", []string{"projects", "list", "--org", "x"}, `--org: "x" is not an organization id`},
		{"project delete malformed", []string{"projects", "delete", "prod"}, "(INVALID_GROUP_ID)"},
		{"cluster project missing", []string{"clusters", "create", "--name", "c"}, "--project is required"},
		{"cluster of unknown project", []string{"clusters", "create", "--project", unknown, "--name", "c"}, "No group with ID " + unknown + " exists. (GROUP_NOT_FOUND)"},
		{"cluster name taken", []string{"clusters", "create", "--project", project, "--name", "Cluster0"}, "A cluster named Cluster0 already exists in group " + project + ". (DUPLICATE_CLUSTER_NAME)"},
		{"cluster name invalid", []string{"clusters", "create", "--project", project, "--name", "my_cluster"}, `Cluster name "my_cluster" is invalid`},
		{"negative shards", []string{"clusters", "create", "--project", project, "--name", "c", "--shards", "-2"}, "not -2"},
		{"shards not a number", []string{"clusters", "create", "--project", project, "--name", "c", "--shards", "three"}, `invalid argument "three" for "--shards"`},
		{"config servers of a replica set", []string{"clusters", "create", "--project", project, "--name", "c", "--config-servers", "csrs"}, "--config-servers: Invalid attribute configServer specified: a replica set has no config servers."},
		{"unknown config servers", []string{"clusters", "create", "--project", project, "--name", "c", "--shards", "2", "--config-servers", "sccc"}, `Unknown config server kind "sccc"`},
		{"mirrored on 4.4", []string{"clusters", "create", "--project", project, "--name", "c", "--shards", "2", "--config-servers", "mirrored"}, "Mirrored config servers (SCCC) ended with MongoDB 3.2"},
		{"bad version", []string{"clusters", "create", "--project", project, "--name", "c", "--mongodb-version", "latest"}, `MongoDB version "latest" is not of the form MAJOR.MINOR.PATCH`},
		{"bad backup", []string{"clusters", "create", "--project", project, "--name", "c", "--backup", "tape"}, `Unknown backup kind "tape"`},
		{"clusters of unknown project", []string{"clusters", "list", "--project", unknown}, "(GROUP_NOT_FOUND)"},
		{"cluster delete without name", []string{"clusters", "delete", "--project", project}, "accepts 1 arg(s), received 0"},
		{"cluster delete unknown", []string{"clusters", "delete", "--project", project, "Nope"}, "(CLUSTER_NOT_FOUND)"},
		{"key org missing", []string{"keys", "create", "--role", "ORG_OWNER"}, "--org is required"},
		{"key without role", []string{"keys", "create", "--org", org}, "give at least one --role or --project-role"},
		{"key bad role", []string{"keys", "create", "--org", org, "--role", "ORG_ADMIN"}, `Unknown organization role "ORG_ADMIN": the organization roles are ORG_OWNER, ORG_READ_ONLY, ORG_MEMBER. (INVALID_ROLE)`},
		{"key project role at org level", []string{"keys", "create", "--org", org, "--role", "GROUP_OWNER"}, "GROUP_OWNER is a project role"},
		{"key org role on a project", []string{"keys", "create", "--org", org, "--project-role", project + ":ORG_OWNER"}, "ORG_OWNER is an organization role"},
		{"key project role malformed", []string{"keys", "create", "--org", org, "--project-role", "GROUP_OWNER"}, "is not of the form PROJECT_ID:ROLE"},
		{"key project of another org", []string{"keys", "create", "--org", org, "--project-role", foreign + ":GROUP_OWNER"}, "No group with ID " + foreign + " exists. (GROUP_NOT_FOUND)"},
		{"key of unknown org", []string{"keys", "create", "--org", unknown, "--role", "ORG_OWNER"}, "(ORG_NOT_FOUND)"},
		{"key bad CIDR", []string{"keys", "create", "--org", org, "--role", "ORG_OWNER", "--access-list", "10.0.0.0/33"}, `Access list entry "10.0.0.0/33" is not an IP address or a CIDR block. (INVALID_IP_ADDRESS_OR_CIDR_NOTATION)`},
		{"key CIDR with host bits", []string{"keys", "create", "--org", org, "--role", "ORG_OWNER", "--access-list", "10.1.0.0/8"}, "did you mean 10.0.0.0/8?"},
		{"key description too long", []string{"keys", "create", "--org", org, "--role", "ORG_OWNER", "--desc", strings.Repeat("x", 251)}, "longer than 250 bytes"},
		{"keys of unknown org", []string{"keys", "list", "--org", unknown}, "(ORG_NOT_FOUND)"},
		{"key delete malformed", []string{"keys", "delete", "ABC"}, `"ABC" is neither an API key id, which is 24 hexadecimal digits, nor a public key, which is 8 lowercase letters. (INVALID_ATTRIBUTE)`},
		{"service account name missing", []string{"service-accounts", "create", "--org", org, "--role", "ORG_OWNER"}, "--name is required"},
		{"service account secret too short", []string{"service-accounts", "create", "--org", org, "--name", "x", "--role", "ORG_OWNER", "--secret-expires", "1h"}, "A secret expires after 8h to 8760h, not 1h0m0s."},
		{"service account secret not a duration", []string{"service-accounts", "create", "--org", org, "--name", "x", "--role", "ORG_OWNER", "--secret-expires", "30d"}, `invalid argument "30d" for "--secret-expires"`},
		{"service account bad role", []string{"service-accounts", "create", "--org", org, "--name", "x", "--project-role", project + ":GROUP_ADMIN"}, `Unknown project role "GROUP_ADMIN"`},
		{"service account project of another org", []string{"service-accounts", "create", "--org", org, "--name", "x", "--project-role", foreign + ":GROUP_READ_ONLY"}, "(GROUP_NOT_FOUND)"},
		{"service account bad address", []string{"service-accounts", "create", "--org", org, "--name", "x", "--role", "ORG_OWNER", "--access-list", "example.com"}, `"example.com" is not an IP address`},
		{"service accounts of unknown org", []string{"service-accounts", "list", "--org", unknown}, "(ORG_NOT_FOUND)"},
		{"service account delete malformed", []string{"service-accounts", "delete", "exporter"}, `"exporter" is not a client id`},
		{"unknown output", []string{"orgs", "list", "--output", "yaml"}, `--output: "yaml" is neither table nor json`},
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

	// Nothing of the above was written.
	for _, args := range [][]string{{"orgs", "list"}, {"projects", "list"}, {"clusters", "list", "--project", project},
		{"keys", "list", "--org", org}, {"service-accounts", "list", "--org", org}} {
		items := listJSON(t, db, args...)
		want := map[string]int{"orgs": 2, "projects": 2, "clusters": 1}[args[0]]
		if len(items) != want {
			t.Errorf("%v: %d items, want %d: %v", args, len(items), want, items)
		}
	}
}

// TestAdminDatabase: only orgs create makes a database file; the other
// commands refuse a missing one, and CHECKPOINTD_DATABASE names it.
func TestAdminDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	for _, args := range [][]string{{"orgs", "list"}, {"projects", "create", "--org", "0123456789abcdef01234567", "--name", "p"}, {"keys", "delete", "abcdefgh"}} {
		_, err := runAdmin(t, missing, args...)
		if err == nil || !strings.Contains(err.Error(), "database "+missing+" does not exist") {
			t.Errorf("%v on a missing database: %v", args, err)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("a command other than orgs create made the database")
	}

	db := filepath.Join(dir, "env.db")
	getenv := func(k string) string {
		return map[string]string{"CHECKPOINTD_DATABASE": db, "CHECKPOINTD_OUTPUT": "json"}[k]
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"orgs", "create", "--name", "From env"}, getenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(out.String())
	out.Reset()
	if err := run(context.Background(), []string{"orgs", "list"}, getenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"id": "`+id+`"`) {
		t.Errorf("orgs list with CHECKPOINTD_DATABASE and CHECKPOINTD_OUTPUT printed:\n%s", out.String())
	}
	// The flag wins over the environment.
	other := filepath.Join(dir, "flag.db")
	mustAdmin(t, other, "orgs", "create", "--name", "From flag")
	out.Reset()
	if err := run(context.Background(), []string{"orgs", "list", "--database", other, "-o", "table"}, getenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "From flag") || strings.Contains(out.String(), "From env") {
		t.Errorf("--database did not win over CHECKPOINTD_DATABASE:\n%s", out.String())
	}
}

// TestAdminHelp: every admin command explains itself, with examples.
func TestAdminHelp(t *testing.T) {
	e := &env{getenv: noEnv, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" || c.Long == "" || c.Example == "" {
			t.Errorf("%s lacks a Short, Long or Example help text", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range []*cobra.Command{newOrgsCmd(e), newProjectsCmd(e), newClustersCmd(e), newKeysCmd(e), newServiceAccountsCmd(e)} {
		var names []string
		for _, sub := range c.Commands() {
			names = append(names, sub.Name())
		}
		want := "create delete list"
		if c.Name() == "clusters" {
			want = "create delete list update"
		}
		if got := strings.Join(names, " "); got != want {
			t.Errorf("%s has subcommands %s, want %s", c.Name(), got, want)
		}
		walk(c)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keys", "create", "--help"}, noEnv, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--project-role", "GROUP_BACKUP_MANAGER", "--access-list", "--database", "Examples:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("keys create --help lacks %q:\n%s", want, out.String())
		}
	}
	for _, sub := range []string{"create", "update"} {
		out.Reset()
		if err := run(context.Background(), []string{"clusters", sub, "--help"}, noEnv, &out, &out); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"--driver", "--interval-min", "--window-hours", "simulated", "15, 30 or 60", "Examples:"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("clusters %s --help lacks %q:\n%s", sub, want, out.String())
			}
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"clusters"}, noEnv, &out, &out); err != nil || !strings.Contains(out.String(), "Available Commands:") {
		t.Errorf("clusters without a subcommand: %v\n%s", err, out.String())
	}
}

func timeParse(v any) (t time.Time, err error) {
	s, _ := v.(string)
	return time.Parse(time.RFC3339, s)
}

// TestDescribeUnavailable: an admin command whose database fails under it
// says so in the API's words and, unlike the API, with the driver's error.
func TestDescribeUnavailable(t *testing.T) {
	cause := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("orgs list: %w", backup.ErrUnavailable(backup.DetailStoreUnavailable, cause)),
			"The database is unavailable. Try again later. (SERVICE_UNAVAILABLE): dial tcp 127.0.0.1:5432: connect: connection refused"},
		{backup.ErrUnavailable(backup.DetailStoreFull, cause),
			"The database's storage is full: nothing was written. Try again once space has been freed. (SERVICE_UNAVAILABLE): " + cause.Error()},
		{backup.ErrOrgNotFound("0123456789abcdef01234567"), "No organization with ID 0123456789abcdef01234567 exists. (ORG_NOT_FOUND)"},
	} {
		if got := describe(tt.err).Error(); got != tt.want {
			t.Errorf("describe(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
