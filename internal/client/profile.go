package client

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Profile is one named set of connection settings in the profiles file.
// Empty fields are unset: the flag's default applies.
type Profile struct {
	BaseURL      string `toml:"base_url,omitempty" json:"base_url,omitempty"`
	PublicKey    string `toml:"public_key,omitempty" json:"public_key,omitempty"`
	PrivateKey   string `toml:"private_key,omitempty" json:"-"`
	ClientID     string `toml:"client_id,omitempty" json:"client_id,omitempty"`
	ClientSecret string `toml:"client_secret,omitempty" json:"-"`
	ProjectID    string `toml:"project_id,omitempty" json:"project_id,omitempty"`
	API          string `toml:"api,omitempty" json:"api,omitempty"`
}

// ProfileKeys maps each key of a profile to the flag it stands for.
var ProfileKeys = []struct{ Key, Flag string }{
	{"base_url", "base-url"},
	{"public_key", "public-key"},
	{"private_key", "private-key"},
	{"client_id", "client-id"},
	{"client_secret", "client-secret"},
	{"project_id", "project"},
	{"api", "api"},
}

// Get returns the value of a profile key.
func (p *Profile) Get(key string) string {
	if f := p.field(key); f != nil {
		return *f
	}
	return ""
}

// Set sets a profile key; an empty value unsets it.
func (p *Profile) Set(key, value string) bool {
	f := p.field(key)
	if f != nil {
		*f = value
	}
	return f != nil
}

func (p *Profile) field(key string) *string {
	switch key {
	case "base_url":
		return &p.BaseURL
	case "public_key":
		return &p.PublicKey
	case "private_key":
		return &p.PrivateKey
	case "client_id":
		return &p.ClientID
	case "client_secret":
		return &p.ClientSecret
	case "project_id":
		return &p.ProjectID
	case "api":
		return &p.API
	}
	return nil
}

// Check reports a profile that could not work: an unknown API, or both
// credential kinds.
func (p *Profile) Check() error {
	if p.API != "" {
		if _, err := ParseAPI(p.API); err != nil {
			return fmt.Errorf("api: %w", err)
		}
	}
	if (p.PublicKey != "" || p.PrivateKey != "") && (p.ClientID != "" || p.ClientSecret != "") {
		return errors.New("it would hold both an API key and a service account; unset one pair with empty values, e.g. --public-key '' --private-key ''")
	}
	return nil
}

// Credentials describes a profile's credentials without their secret
// half, e.g. "API key qhzvmtkr".
func (p *Profile) Credentials() string {
	switch {
	case p.PublicKey != "":
		return "API key " + p.PublicKey
	case p.ClientID != "":
		return "service account " + p.ClientID
	}
	return ""
}

// DefaultProfilesPath is $XDG_CONFIG_HOME/checkpointd/profiles.toml, or
// ~/.config/checkpointd/profiles.toml; "" when neither variable is set.
func DefaultProfilesPath(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "checkpointd", "profiles.toml")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "checkpointd", "profiles.toml")
	}
	return ""
}

// Profiles is the profiles file's content, by profile name.
type Profiles map[string]Profile

// Names returns the profile names in order.
func (ps Profiles) Names() []string {
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LoadProfiles reads the profiles file at path. A missing file is no
// profiles and no error (fs.ErrNotExist is not returned). The warning,
// when not empty, says the file may be read by others: it holds secrets.
// Keys that are not profile keys are an error naming them.
func LoadProfiles(path string) (ps Profiles, warning string, err error) {
	ps = Profiles{}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ps, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		warning = fmt.Sprintf("%s is readable by others (mode %04o) and holds secrets: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	md, err := toml.DecodeFile(path, &ps)
	if err != nil {
		return nil, warning, fmt.Errorf("profiles file %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, warning, fmt.Errorf("profiles file %s: unknown key %s (a profile holds base_url, public_key, private_key, client_id, client_secret, project_id, api)", path, strings.Join(keys, ", "))
	}
	for _, name := range ps.Names() {
		p := ps[name]
		if err := p.Check(); err != nil {
			return nil, warning, fmt.Errorf("profiles file %s: profile %q: %w", path, name, err)
		}
	}
	return ps, warning, nil
}

// SaveProfiles writes ps to path with mode 0600, creating its directory
// (mode 0700) if need be. It writes a temporary file beside it and renames
// it into place, so a reader never sees half a file, and a file that was
// readable by others is replaced by one that is not.
func SaveProfiles(path string, ps Profiles) error {
	var buf bytes.Buffer
	buf.WriteString("# checkpointd client profiles: checkpointd --profile NAME. Holds secrets: keep it mode 0600.\n")
	for _, name := range ps.Names() {
		buf.WriteString("\n")
		if err := toml.NewEncoder(&buf).Encode(map[string]Profile{name: ps[name]}); err != nil {
			return err
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".profiles-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
