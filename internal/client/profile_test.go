package client_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/client"
)

// TestProfilesRoundTrip: what SaveProfiles writes, LoadProfiles reads
// back, and the file is the owner's alone, even when it replaces one that
// others could read.
func TestProfilesRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "conf", "checkpointd", "profiles.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("[old]\napi = \"atlas-v1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, warning, err := client.LoadProfiles(path)
	if err != nil || ps["old"].API != "atlas-v1" {
		t.Fatalf("%v %+v", err, ps)
	}
	if !strings.Contains(warning, "readable by others (mode 0644)") || !strings.Contains(warning, "chmod 600 "+path) {
		t.Errorf("warning %q", warning)
	}
	ps["default"] = client.Profile{BaseURL: "http://127.0.0.1:8080", PublicKey: "abcdefgh", PrivateKey: "secret \"quoted\"", ProjectID: "5e2211c17a3e5a48f5497de3"}
	ps["sa"] = client.Profile{ClientID: "mdb_sa_id_1", ClientSecret: "mdb_sa_sk_2", API: "cloud-manager"}
	if err := client.SaveProfiles(path, ps); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	got, warning, err := client.LoadProfiles(path)
	if err != nil || warning != "" {
		t.Fatalf("%v, warning %q", err, warning)
	}
	if len(got) != 3 || got["default"] != ps["default"] || got["sa"] != ps["sa"] || got["old"] != ps["old"] {
		t.Errorf("read back %+v, wrote %+v", got, ps)
	}
	if names := strings.Join(got.Names(), ","); names != "default,old,sa" {
		t.Errorf("names %s", names)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".profiles-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestLoadProfilesRefuses files that could not work, naming the problem.
func TestLoadProfilesRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, content, wantErr string
	}{
		{"unknown key", "[default]\nbase_url = \"http://x\"\nprivate_kye = \"s\"\n", "unknown key default.private_kye"},
		{"not TOML", "[default\n", "profiles file"},
		{"not a table", "base_url = \"http://x\"\n", "profiles file"},
		{"both credential kinds", "[a]\npublic_key = \"p\"\nclient_id = \"c\"\n", `profile "a": it would hold both an API key and a service account`},
		{"unknown api", "[a]\napi = \"v3\"\n", `profile "a": api: "v3" is not an API`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "profiles.toml")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := client.LoadProfiles(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
	// A missing file is no profiles.
	ps, warning, err := client.LoadProfiles(filepath.Join(t.TempDir(), "none.toml"))
	if err != nil || warning != "" || len(ps) != 0 {
		t.Errorf("missing file: %v %q %v", ps, warning, err)
	}
}

func TestDefaultProfilesPath(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/checkpointd/profiles.toml"},
		{map[string]string{"HOME": "/h"}, "/h/.config/checkpointd/profiles.toml"},
		{map[string]string{}, ""},
	} {
		if got := client.DefaultProfilesPath(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.env, got, tt.want)
		}
	}
}
