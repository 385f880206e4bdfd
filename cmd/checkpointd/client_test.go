package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/client/clienttest"
)

// envOf is a getenv over vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// runCmd runs checkpointd with args and returns what it printed.
func runCmd(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, getenv, &out, &errOut)
	return out.String(), errOut.String(), err
}

// isolated is an environment with a configuration directory of the test's
// own, so that no profile of the machine's user is read.
func isolated(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	all := map[string]string{"XDG_CONFIG_HOME": t.TempDir()}
	for k, v := range vars {
		all[k] = v
	}
	return envOf(all)
}

// keyFlags are the flags that reach s with its API key.
func keyFlags(s *clienttest.Server) []string {
	return []string{"--base-url", s.URL, "--public-key", s.PublicKey, "--private-key", s.PrivateKey, "--project", s.Project()}
}

var checkpointIDs = regexp.MustCompile(`(?m)^([0-9a-f]{24})  `)

// TestClientList lists a page as a table and as JSON on every API
// generation, with an API key in flags or a service account in the
// environment.
func TestClientList(t *testing.T) {
	s := clienttest.NewServer(t)
	total := s.Checkpoints("Cluster0")
	cm := s.Cluster(t, "Cluster0").ID.Hex()
	accountEnv := map[string]string{
		"CHECKPOINTD_BASE_URL": s.URL, "CHECKPOINTD_CLIENT_ID": s.ClientID,
		"CHECKPOINTD_CLIENT_SECRET": s.ClientSecret, "CHECKPOINTD_PROJECT": s.Project(),
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"v2 key", nil, append(keyFlags(s), "--cluster", "Cluster0")},
		{"v1 key", nil, append(keyFlags(s), "--cluster", "Cluster0", "--api", "atlas-v1")},
		{"cloud manager key", nil, append(keyFlags(s), "--cluster", cm, "--api", "cloud-manager")},
		{"v2 service account", accountEnv, []string{"--cluster", "Cluster0"}},
		{"cloud manager service account", accountEnv, []string{"--cluster", cm, "--api", "cloud-manager"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			getenv := isolated(t, tt.env)
			args := append([]string{"checkpoints", "list", "--items-per-page", "5", "--page", "2"}, tt.args...)
			out, stderr, err := runCmd(t, getenv, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			rows := table(t, out)
			if len(rows) != 6 || strings.Join(rows[0], "|") != "ID|TIMESTAMP|RESTORABLE|STARTED|COMPLETED|PARTS" {
				t.Fatalf("table:\n%s", out)
			}
			for _, r := range rows[1:] {
				if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(r[0]) || !regexp.MustCompile(`^\d/4 discovered$`).MatchString(r[5]) ||
					(r[2] != "yes" && r[2] != "no") || !strings.HasSuffix(r[1], "Z") {
					t.Errorf("row %q", r)
				}
			}
			if want := "checkpoints 6 to 10 of " + strconv.Itoa(total) + "; next: --page 3, or --all for every page\n"; stderr != want {
				t.Errorf("stderr %q, want %q", stderr, want)
			}

			out, _, err = runCmd(t, getenv, append(args, "--output", "json")...)
			if err != nil {
				t.Fatal(err)
			}
			var page struct {
				Results    []map[string]any `json:"results"`
				TotalCount int              `json:"totalCount"`
				Links      []map[string]any `json:"links"`
			}
			if err := json.Unmarshal([]byte(out), &page); err != nil || !strings.HasPrefix(out, "{\n  \"links\": [") {
				t.Fatalf("json %v:\n%.300s", err, out)
			}
			if len(page.Results) != 5 || page.TotalCount != total || len(page.Links) != 3 || page.Results[0]["id"] != rows[1][0] {
				t.Errorf("json page: %d results, total %d, %d links, first %v (table: %s)", len(page.Results), page.TotalCount, len(page.Links), page.Results[0]["id"], rows[1][0])
			}
		})
	}
}

// TestClientListAll reads every page, as a table and as JSON.
func TestClientListAll(t *testing.T) {
	s := clienttest.NewServer(t)
	total := s.Checkpoints("Cluster0")
	getenv := isolated(t, nil)
	args := append([]string{"checkpoints", "list", "--cluster", "Cluster0", "--all", "--items-per-page", "100"}, keyFlags(s)...)
	out, stderr, err := runCmd(t, getenv, args...)
	if err != nil || stderr != "" {
		t.Fatalf("%v %s", err, stderr)
	}
	ids := checkpointIDs.FindAllStringSubmatch(out, -1)
	seen := map[string]bool{}
	for _, m := range ids {
		seen[m[1]] = true
	}
	if len(ids) != total || len(seen) != total {
		t.Errorf("--all listed %d checkpoints (%d distinct), want %d", len(ids), len(seen), total)
	}

	// One page past the end: an empty table, and a note saying so.
	out, stderr, err = runCmd(t, getenv, append([]string{"checkpoints", "list", "--cluster", "Cluster0", "--page", "99", "--items-per-page", "100"}, keyFlags(s)...)...)
	if err != nil || len(table(t, out)) != 1 || stderr != "page 99 is past the end: "+strconv.Itoa(total)+" checkpoints in all\n" {
		t.Errorf("past the end: %v\nstdout:\n%s\nstderr: %q", err, out, stderr)
	}

	out, _, err = runCmd(t, getenv, append(args, "-o", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	var all struct {
		Results    []struct{ ID string } `json:"results"`
		TotalCount int                   `json:"totalCount"`
	}
	if err := json.Unmarshal([]byte(out), &all); err != nil || len(all.Results) != total || all.TotalCount != total {
		t.Fatalf("json: %v, %d results, total %d", err, len(all.Results), all.TotalCount)
	}
	if all.Results[0].ID != ids[0][1] || all.Results[total-1].ID != ids[total-1][1] {
		t.Errorf("json and table differ: %s..%s vs %s..%s", all.Results[0].ID, all.Results[total-1].ID, ids[0][1], ids[total-1][1])
	}
}

// TestClientGet shows one checkpoint, its parts in a table, on each API
// generation; JSON is the server's.
func TestClientGet(t *testing.T) {
	s := clienttest.NewServer(t)
	legacy := s.Cluster(t, "LegacyCluster")
	getenv := isolated(t, nil)
	out, _, err := runCmd(t, getenv, append([]string{"checkpoints", "list", "--cluster", "LegacyCluster", "--items-per-page", "1"}, keyFlags(s)...)...)
	if err != nil {
		t.Fatal(err)
	}
	id := checkpointIDs.FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no id in:\n%s", out)
	}
	for _, tt := range []struct {
		api, cluster string
		hostColumn   bool
	}{
		{"atlas-v2", "LegacyCluster", false},
		{"atlas-v1", "LegacyCluster", false},
		{"cloud-manager", legacy.ID.Hex(), true},
	} {
		t.Run(tt.api, func(t *testing.T) {
			args := append([]string{"checkpoints", "get", "--api", tt.api, "--cluster", tt.cluster, "--id", id[1]}, keyFlags(s)...)
			out, stderr, err := runCmd(t, getenv, args...)
			if err != nil || stderr != "" {
				t.Fatalf("%v %s", err, stderr)
			}
			head, parts, ok := strings.Cut(out, "\n\n")
			if !ok {
				t.Fatalf("no parts table:\n%s", out)
			}
			for _, want := range []string{"ID:          " + id[1] + "\n", "CLUSTER ID:  " + legacy.ID.Hex() + "\n", "PROJECT ID:  " + s.Project() + "\n", "PARTS:       3/3 discovered"} {
				if !strings.Contains(head+"\n", want) {
					t.Errorf("lacks %q:\n%s", want, out)
				}
			}
			rows := table(t, parts)
			header := "TYPE|SHARD|REPLICA SET|DISCOVERED|TOKEN TIMESTAMP"
			if tt.hostColumn {
				header += "|HOST ID"
			}
			if len(rows) != 4 || strings.Join(rows[0], "|") != header {
				t.Fatalf("parts:\n%s", parts)
			}
			types := map[string][]string{}
			for _, r := range rows[1:] {
				types[r[0]] = r
				if r[3] != "yes" || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ inc \d+$`).MatchString(r[4]) {
					t.Errorf("part %q", r)
				}
			}
			cfg := types["CONFIG_SERVER"]
			if cfg == nil || cfg[1] != "-" || cfg[2] != "-" || tt.hostColumn && cfg[5] != "0f5c1b9ea1c54a5da0ee2b6ca2ac6c41" {
				t.Errorf("config server part %q", cfg)
			}
			if rs := types["REPLICA_SET"]; rs == nil || !strings.HasPrefix(rs[1], "shard_") || !strings.HasPrefix(rs[2], "rs") {
				t.Errorf("shard part %q", rs)
			}

			out, _, err = runCmd(t, getenv, append(args, "--output", "json")...)
			var cp map[string]any
			if err != nil || json.Unmarshal([]byte(out), &cp) != nil || cp["id"] != id[1] || !strings.HasPrefix(out, "{\n  \"clusterId\": ") {
				t.Errorf("json %v:\n%.300s", err, out)
			}
		})
	}
}

// TestClientErrors: the server's errors come out as its code and detail;
// flags that cannot work are refused before any request.
func TestClientErrors(t *testing.T) {
	s := clienttest.NewServer(t)
	list := []string{"checkpoints", "list"}
	for _, tt := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"unknown cluster", append(append(list, keyFlags(s)...), "--cluster", "Nope"), nil,
			"CLUSTER_NOT_FOUND: No cluster named Nope exists in group " + s.Project() + "."},
		{"unknown checkpoint", append(append([]string{"checkpoints", "get", "--id", "5a7cdb3980eef53de5bffdce"}, keyFlags(s)...), "--cluster", "Cluster0"), nil,
			"CHECKPOINT_NOT_FOUND: No checkpoint with ID 5a7cdb3980eef53de5bffdce exists for cluster Cluster0."},
		{"invalid project id", append(list, "--cluster", "Cluster0", "--project", "nope", "--base-url", s.URL, "--public-key", s.PublicKey, "--private-key", s.PrivateKey), nil,
			"INVALID_GROUP_ID: "},
		{"wrong private key", append(list, "--cluster", "Cluster0", "--project", s.Project(), "--base-url", s.URL, "--public-key", s.PublicKey, "--private-key", "wrong"), nil,
			"UNEXPECTED_ERROR: You are not authorized for this resource. (the server refused the credentials of API key " + s.PublicKey},
		{"wrong client secret", append(list, "--cluster", "Cluster0", "--project", s.Project(), "--base-url", s.URL, "--client-id", s.ClientID),
			map[string]string{"CHECKPOINTD_CLIENT_SECRET": "mdb_sa_sk_wrong"},
			"invalid_client: Invalid credentials provided. (the token endpoint " + s.URL + "/api/oauth/token refused"},
		{"no server", append(list, "--cluster", "Cluster0", "--project", s.Project(), "--base-url", "http://127.0.0.1:1", "--public-key", "a", "--private-key", "b"), nil,
			"cannot connect to http://127.0.0.1:1 (is the server running, and is --base-url right?)"},
		{"missing --project", append(list, "--cluster", "Cluster0", "--public-key", "a", "--private-key", "b"), nil, "--project is required"},
		{"missing --cluster", append(list, "--project", s.Project(), "--public-key", "a", "--private-key", "b"), nil, "--cluster is required"},
		{"missing --id", append([]string{"checkpoints", "get", "--cluster", "Cluster0"}, keyFlags(s)...), nil, "--id is required"},
		{"bad --output", append(append(list, keyFlags(s)...), "--cluster", "Cluster0", "--output", "yaml"), nil, `--output: "yaml" is neither table nor json`},
		{"bad --api", append(append(list, keyFlags(s)...), "--cluster", "Cluster0", "--api", "atlas-v3"), nil, `--api: "atlas-v3" is not an API`},
		{"bad CHECKPOINTD_API", append(append(list, keyFlags(s)...), "--cluster", "Cluster0"), map[string]string{"CHECKPOINTD_API": "v2"}, `--api: "v2" is not an API`},
		{"both credential kinds", append(append(list, keyFlags(s)...), "--cluster", "Cluster0", "--client-id", "x", "--client-secret", "y"), nil, "give either an API key (--public-key, --private-key) or a service account (--client-id, --client-secret), not both"},
		{"no credentials", append(list, "--cluster", "Cluster0", "--project", s.Project()), nil, "no credentials"},
		{"--all and --page", append(append(list, keyFlags(s)...), "--cluster", "Cluster0", "--all", "--page", "2"), nil, "--all reads every page: give either --all or --page"},
		{"--items-per-page too large", append(append(list, keyFlags(s)...), "--cluster", "Cluster0", "--items-per-page", "501"), nil, "--items-per-page: 501: want 1 to 500"},
		{"bad --base-url", append(list, "--cluster", "Cluster0", "--project", s.Project(), "--public-key", "a", "--private-key", "b", "--base-url", "127.0.0.1:8080"), nil, `base URL "127.0.0.1:8080": want http:// or https://`},
		{"missing named profile", append(append(list, keyFlags(s)...), "--cluster", "Cluster0", "--profile", "prod"), nil, "--profile prod: no such profile in "},
		{"unknown subcommand", []string{"checkpoints", "lsit"}, nil, `unknown command "lsit" for "checkpointd checkpoints"; did you mean list?`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runCmd(t, isolated(t, tt.env), tt.args...)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("err %v\nwant %q", err, tt.wantErr)
			}
			if out != "" {
				t.Errorf("printed %q", out)
			}
		})
	}
}

// writeProfiles writes a profiles file with mode 0600 and returns its
// path.
func writeProfiles(t *testing.T, dir, content string) string {
	t.Helper()
	path := filepath.Join(dir, "checkpointd", "profiles.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProfilePrecedence: a flag wins over a CHECKPOINTD_* variable, which
// wins over the profile, which wins over the default. Each case makes
// one setting right at one level and wrong at the levels below it.
func TestProfilePrecedence(t *testing.T) {
	s := clienttest.NewServer(t)
	const dead = "http://127.0.0.1:1"
	cm := s.Cluster(t, "Cluster1").ID.Hex()
	profiles := func(body string) string {
		return "[default]\nbase_url = \"" + s.URL + "\"\npublic_key = \"" + s.PublicKey + "\"\nprivate_key = \"" + s.PrivateKey + "\"\nproject_id = \"" + s.Project() + "\"\n" + body
	}
	for _, tt := range []struct {
		name     string
		profiles string
		env      map[string]string
		args     []string
		wantErr  string
	}{
		// No level sets --api: the default, atlas-v2, takes the cluster's
		// name (Cloud Manager would want its id, as the next case shows).
		{"profile alone", profiles(""), nil, nil, ""},
		{"profile's api", profiles("api = \"cloud-manager\"\n"), nil, nil, "INVALID_CLUSTER_ID"},
		{"env over profile", profiles("api = \"cloud-manager\"\n"), map[string]string{"CHECKPOINTD_API": "atlas-v1"}, nil, ""},
		{"flag over env", profiles(""), map[string]string{"CHECKPOINTD_API": "cloud-manager"}, []string{"--api", "atlas-v2"}, ""},
		{"env over profile, base url", "[default]\nbase_url = \"" + dead + "\"\n",
			map[string]string{"CHECKPOINTD_BASE_URL": s.URL, "CHECKPOINTD_PUBLIC_KEY": s.PublicKey, "CHECKPOINTD_PRIVATE_KEY": s.PrivateKey, "CHECKPOINTD_PROJECT": s.Project()}, nil, ""},
		{"flag over env, base url", profiles(""), map[string]string{"CHECKPOINTD_BASE_URL": dead}, []string{"--base-url", s.URL}, ""},
		{"env over profile, wrong base url", profiles(""), map[string]string{"CHECKPOINTD_BASE_URL": dead}, nil, "cannot connect to " + dead},
		{"flag over profile, private key", profiles(""), nil, []string{"--private-key", "wrong"}, "UNEXPECTED_ERROR"},
		{"flag's client id with the profile's key", profiles(""), nil, []string{"--client-id", s.ClientID}, "a service account needs both --client-id and --client-secret"},
		{"service account replaces the profile's key", profiles(""), map[string]string{"CHECKPOINTD_CLIENT_ID": s.ClientID, "CHECKPOINTD_CLIENT_SECRET": s.ClientSecret}, nil, ""},
		{"named profile", profiles("[cm]\nbase_url = \"" + s.URL + "\"\nclient_id = \"" + s.ClientID + "\"\nclient_secret = \"" + s.ClientSecret + "\"\nproject_id = \"" + s.Project() + "\"\napi = \"cloud-manager\"\n"),
			nil, []string{"--profile", "cm", "--cluster", cm}, ""},
		{"profile from env", profiles("[cm]\napi = \"cloud-manager\"\n"), map[string]string{"CHECKPOINTD_PROFILE": "cm"}, nil, "--project is required"},
		{"missing default profile", "[other]\napi = \"atlas-v1\"\n", nil, keyFlags(s), ""},
		{"no profiles file", "", nil, keyFlags(s), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.profiles != "" {
				writeProfiles(t, dir, tt.profiles)
			}
			env := map[string]string{"XDG_CONFIG_HOME": dir}
			for k, v := range tt.env {
				env[k] = v
			}
			args := append([]string{"checkpoints", "list", "--items-per-page", "1", "--cluster", "Cluster1"}, tt.args...)
			out, stderr, err := runCmd(t, envOf(env), args...)
			if tt.wantErr == "" {
				if err != nil || len(checkpointIDs.FindAllString(out, -1)) != 1 {
					t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestProfilesCommands: profiles set writes the file with mode 0600 and
// changes only what it is given; list never prints secrets; the client
// commands use the profile and warn when others may read the file.
func TestProfilesCommands(t *testing.T) {
	s := clienttest.NewServer(t)
	dir := t.TempDir()
	getenv := envOf(map[string]string{"XDG_CONFIG_HOME": dir})
	path := filepath.Join(dir, "checkpointd", "profiles.toml")

	mustRun := func(args ...string) (string, string) {
		t.Helper()
		out, stderr, err := runCmd(t, getenv, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
		return out, stderr
	}
	out, _ := mustRun("profiles", "set", "default", "--base-url", s.URL, "--public-key", s.PublicKey, "--private-key", s.PrivateKey, "--project", s.Project())
	if out != "profile default saved in "+path+"\n" {
		t.Errorf("set printed %q", out)
	}
	mustRun("profiles", "set", "robot", "--client-id", s.ClientID, "--client-secret", s.ClientSecret, "--api", "atlas-v1")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("profiles file mode %v, %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("profiles directory mode %v, %v", fi.Mode(), err)
	}

	out, _ = mustRun("profiles", "list")
	rows := table(t, out)
	want := [][]string{
		{"NAME", "BASE URL", "API", "PROJECT", "CREDENTIALS"},
		{"default", s.URL, "-", s.Project(), "API key " + s.PublicKey},
		{"robot", "-", "atlas-v1", "-", "service account " + s.ClientID},
	}
	if len(rows) != len(want) {
		t.Fatalf("list:\n%s", out)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %q, want %q", i, rows[i], want[i])
		}
	}
	jsonOut, _ := mustRun("profiles", "list", "--output", "json")
	for _, secret := range []string{s.PrivateKey, s.ClientSecret} {
		if strings.Contains(out, secret) || strings.Contains(jsonOut, secret) {
			t.Errorf("profiles list prints a secret:\n%s\n%s", out, jsonOut)
		}
	}

	// Changing one setting keeps the others.
	mustRun("profiles", "set", "robot", "--base-url", s.URL, "--project", s.Project())
	out, _ = mustRun("checkpoints", "list", "--profile", "robot", "--cluster", "Cluster1", "--items-per-page", "2")
	if n := len(checkpointIDs.FindAllString(out, -1)); n != 2 {
		t.Errorf("list with profile robot:\n%s", out)
	}

	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"profiles", "set", "robot", "--public-key", "k", "--private-key", "p"}, "profile robot: it would hold both an API key and a service account"},
		{[]string{"profiles", "set", "robot", "--api", "v9"}, `profile robot: api: "v9" is not an API`},
		{[]string{"profiles", "set", "robot", "--base-url", "localhost"}, "--base-url: base URL \"localhost\""},
		{[]string{"profiles", "set", "robot"}, "nothing to set"},
		{[]string{"profiles", "delete", "nobody"}, "no profile nobody in " + path},
	} {
		if _, _, err := runCmd(t, getenv, tt.args...); err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.wantErr)
		}
	}
	// Dropping the service account makes room for a key.
	mustRun("profiles", "set", "robot", "--client-id", "", "--client-secret", "", "--public-key", s.PublicKey, "--private-key", s.PrivateKey)
	out, _ = mustRun("profiles", "list")
	if !strings.Contains(out, "API key "+s.PublicKey) || strings.Contains(out, s.ClientID) {
		t.Errorf("after switching robot to a key:\n%s", out)
	}
	mustRun("profiles", "delete", "robot")
	out, _ = mustRun("profiles", "list")
	if strings.Contains(out, "robot") {
		t.Errorf("robot still listed:\n%s", out)
	}

	// A file others may read works, with a warning.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr := mustRun("checkpoints", "list", "--cluster", "Cluster1", "--items-per-page", "1")
	if len(checkpointIDs.FindAllString(out, -1)) != 1 || !strings.HasPrefix(stderr, "warning: "+path+" is readable by others (mode 0644) and holds secrets: chmod 600 "+path+"\n") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, stderr)
	}
}

// TestServeConfig: serve reads a TOML file whose keys are its flags; a
// flag wins over the environment, which wins over the file. Invalid
// values show which level's value was taken without starting a server.
func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	config := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fromFile := config("file.toml", "log-format = \"from-file\"\naddr = \"127.0.0.1:0\"\n")
	for _, tt := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{"file", nil, []string{"--config", fromFile}, `config file ` + fromFile + `: log-format: "from-file" is neither text nor json`},
		{"file from CHECKPOINTD_CONFIG", map[string]string{"CHECKPOINTD_CONFIG": fromFile}, nil, `config file ` + fromFile + `: log-format: "from-file" is neither text nor json`},
		{"env over file", map[string]string{"CHECKPOINTD_LOG_FORMAT": "from-env"}, []string{"--config", fromFile}, `--log-format: "from-env" is neither text nor json`},
		{"flag over env", map[string]string{"CHECKPOINTD_LOG_FORMAT": "from-env"}, []string{"--config", fromFile, "--log-format", "from-flag"}, `--log-format: "from-flag" is neither text nor json`},
		{"unknown key", nil, []string{"--config", config("typo.toml", "addr = \"127.0.0.1:0\"\nrate-limt = \"100/1m\"\n")},
			`config file ` + filepath.Join(dir, "typo.toml") + `: unknown key "rate-limt"`},
		{"a table", nil, []string{"--config", config("table.toml", "[serve]\naddr = \"127.0.0.1:0\"\n")}, `unknown key "serve"`},
		{"config in the file", nil, []string{"--config", config("self.toml", "config = \"other.toml\"\n")}, `unknown key "config"`},
		{"wrong type", nil, []string{"--config", config("type.toml", "trust-forwarded-for = \"maybe\"\n")}, "trust-forwarded-for: "},
		{"array", nil, []string{"--config", config("array.toml", "addr = [1, 2]\n")}, "addr: want a string, number or boolean, not array"},
		{"not TOML", nil, []string{"--config", config("bad.toml", "addr = \n")}, "config file " + filepath.Join(dir, "bad.toml") + ": "},
		{"missing file", nil, []string{"--config", filepath.Join(dir, "none.toml")}, "config file " + filepath.Join(dir, "none.toml") + ": "},
		{"other types", nil, []string{"--config", config("types.toml", "log-format = \"x\"\nauth-refresh = \"1s\"\ndemo-seed = 7\ndemo-speed = 2.5\ntrust-forwarded-for = true\n")}, `types.toml: log-format: "x"`},
		// Values refused once read name the file and the key too.
		{"bad duration", nil, []string{"--config", config("refresh.toml", "engine-refresh = \"0s\"\n")},
			`config file ` + filepath.Join(dir, "refresh.toml") + `: engine-refresh: 0s must be positive`},
		{"bad rate limit", nil, []string{"--config", config("limit.toml", "rate-limit = \"100\"\n")},
			`config file ` + filepath.Join(dir, "limit.toml") + `: rate-limit: "100": want N/WINDOW`},
		{"bad address", nil, []string{"--config", config("addr.toml", "addr = \"127.0.0.1:99999\"\n")},
			`config file ` + filepath.Join(dir, "addr.toml") + `: addr: listen tcp: address 99999: invalid port`},
		{"bad timeout", nil, []string{"--config", config("timeout.toml", "read-timeout = \"-1s\"\n")},
			`config file ` + filepath.Join(dir, "timeout.toml") + `: read-timeout: -1s must be positive`},
		{"a flag's value is not the file's", nil, []string{"--config", config("flag.toml", "paging = \"strict\"\n"), "--paging", "loose"}, `--paging: "loose"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCmd(t, envOf(tt.env), append([]string{"serve", "--database", filepath.Join(dir, "never.db")}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "never.db")); err == nil {
		t.Error("a refused configuration opened the database")
	}

	// A whole configuration: the server runs with the file's settings.
	db := filepath.Join(dir, "from-config.db")
	whole := config("whole.toml", "database = \""+db+"\"\nlog-format = \"json\"\ndemo = true\nrate-limit = \"100/1m\"\n")
	printed, base, logs := startServeOn(t, nil, noEnv, "--config", whole)
	if !strings.Contains(printed, "demo data set created") {
		t.Errorf("serve printed:\n%s", printed)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("the file's database was not created: %v", err)
	}
	out, stderr, err := runCmd(t, isolated(t, nil), "checkpoints", "list", "--base-url", base, "--project", "5e2211c17a3e5a48f5497de3",
		"--cluster", "Cluster1", "--public-key", demoKeyLine.FindStringSubmatch(printed)[1], "--private-key", demoKeyLine.FindStringSubmatch(printed)[2], "--items-per-page", "1")
	if err != nil || len(checkpointIDs.FindAllString(out, -1)) != 1 {
		t.Fatalf("list from the configured server: %v\n%s%s", err, out, stderr)
	}
	if l := logs.String(); !strings.Contains(l, `"msg":"serving"`) {
		t.Errorf("logs are not JSON:\n%s", l)
	}
}

// TestCompletion: the completion scripts are there for each shell, and
// the client flags complete their values.
func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	writeProfiles(t, dir, "[default]\napi = \"atlas-v1\"\n[prod]\napi = \"atlas-v2\"\n")
	getenv := envOf(map[string]string{"XDG_CONFIG_HOME": dir})
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		out, _, err := runCmd(t, getenv, "completion", shell)
		if err != nil || !strings.Contains(out, "checkpointd") || len(out) < 1000 {
			t.Errorf("completion %s: %v, %d bytes", shell, err, len(out))
		}
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"checkpoints", "list", "--api", ""}, []string{"atlas-v2", "atlas-v1", "cloud-manager"}},
		{[]string{"checkpoints", "get", "--output", ""}, []string{"table\taligned columns", "json\tthe server's JSON"}},
		{[]string{"checkpoints", "list", "--profile", ""}, []string{"default", "prod"}},
		{[]string{"profiles", "delete", ""}, []string{"default", "prod"}},
		{[]string{"profiles", "set", "x", "--api", ""}, []string{"atlas-v2", "atlas-v1", "cloud-manager"}},
		{[]string{"serve", "--paging", ""}, []string{"lenient", "strict"}},
		{[]string{"checkpoints", ""}, []string{"get\tShow one checkpoint and its parts", "list\tList a cluster's checkpoints, oldest first",
			"restore-plan\tHow to restore a checkpoint by hand (checkpointd only)"}},
		{[]string{"restore-jobs", ""}, []string{"create\tRestore a cluster to one of its checkpoints", "get\tShow one restore job",
			"list\tList a cluster's restore jobs, oldest first"}},
		{[]string{"restore-jobs", "list", "--api", ""}, []string{"atlas-v2", "atlas-v1", "cloud-manager"}},
	} {
		out, _, err := runCmd(t, getenv, append([]string{"__complete"}, tt.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var got []string
		for _, l := range lines {
			if !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "Completion ended") {
				got = append(got, l)
			}
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("__complete %q: %q, want %q", tt.args, got, tt.want)
		}
	}
}
