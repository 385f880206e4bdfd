package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/checkpointd/checkpointd/internal/clock"
)

// env is the process environment as the commands see it: everything reads
// it through here, so tests can give each run its own.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	// clock is the one clock of everything the command runs: the
	// store, authentication, the API, the engine, what it creates.
	clock clock.Clock
}

// run builds the command tree and executes it with args.
func (e *env) run(ctx context.Context, args []string) error {
	root := &cobra.Command{
		Use:   "checkpointd",
		Short: "A self-hostable server for the MongoDB Cloud legacy backup checkpoints API",
		Long: `checkpointd serves the legacy backup checkpoints resource of MongoDB Cloud
(Atlas Administration API v2 and v1.0, Cloud Manager public API) over its
own store, SQLite or PostgreSQL, wire-compatible with the official clients,
and takes checkpoints with its own engine or accepts backup agents' reports.
"serve" runs the server (the API, its administration API, a web view,
metrics); "checkpoints" reads checkpoints from a server
(this one or MongoDB's) over the API, "schedule" reads and changes a
cluster's checkpoint interval and "restore-jobs" restores a cluster to a
checkpoint, with settings kept by "profiles"; "slots" explains what
became of every checkpoint slot of a cluster, "rpo" measures a cluster's
restore points against its recovery point objective, and the other
commands manage organizations, projects, clusters, API keys and service
accounts, in the store directly; "backup" copies a SQLite database
while servers use it, "restore" puts a copy back; "agent" takes a real
sharded cluster's checkpoints and reports them to a server.
"simcluster" serves a simulated sharded cluster over the MongoDB wire
protocol, to try MongoDB clients against without a MongoDB server.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(newServeCmd(e))
	root.AddCommand(newOrgsCmd(e), newProjectsCmd(e), newClustersCmd(e), newSlotsCmd(e), newRPOCmd(e), newKeysCmd(e), newServiceAccountsCmd(e))
	root.AddCommand(newCheckpointsCmd(e), newScheduleCmd(e), newRestoreJobsCmd(e), newProfilesCmd(e), newAgentCmd(e))
	root.AddCommand(newSimclusterCmd(e))
	root.AddCommand(newBackupCmd(e), newRestoreCmd(e))
	return root.ExecuteContext(ctx)
}

// bindEnv lets CHECKPOINTD_<FLAG_NAME> set any flag the command line left
// alone: flags win over the environment, which wins over defaults.
func bindEnv(e *env, fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "CHECKPOINTD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := e.getenv(name); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = &envError{name: name, err: serr}
			}
		}
	})
	return err
}

// bindConfig lets the TOML file at path set any flag that neither the
// command line nor the environment set (call it after bindEnv): its keys
// are the flags' names, e.g. addr = "127.0.0.1:9000" or
// rate-limit = "100/1m". A key that is not a flag of the command is an
// error naming it, so that a misspelt setting is not silently ignored.
// The config flag itself cannot be set from the file. The configFile it
// returns names the file in the errors of the values it set (see blame).
func bindConfig(fs *pflag.FlagSet, path, configFlag string) (configFile, error) {
	file := configFile{path: path}
	if path == "" {
		return file, nil
	}
	var values map[string]any
	md, err := toml.DecodeFile(path, &values)
	if err != nil {
		return file, fmt.Errorf("config file %s: %w", path, err)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	file.set = make(map[string]bool, len(keys))
	for _, k := range keys {
		f := fs.Lookup(k)
		if f == nil || k == configFlag || k == "help" {
			return file, fmt.Errorf("config file %s: unknown key %q: the keys are flag names, as --help lists them", path, k)
		}
		v, ok := configValue(values[k])
		if !ok {
			return file, fmt.Errorf("config file %s: %s: want a string, number or boolean, not %s", path, k, strings.ToLower(md.Type(k)))
		}
		if f.Changed {
			continue
		}
		if err := fs.Set(k, v); err != nil {
			return file, fmt.Errorf("config file %s: %s: %w", path, k, err)
		}
		file.set[k] = true
	}
	return file, nil
}

// configFile is the configuration file a command read, and the keys whose
// values it took from it.
type configFile struct {
	path string
	set  map[string]bool
}

// blame names the file and the key in err when err is a flagError about
// a value taken from the file: a value is refused only once the command
// runs, where it reads as a flag.
func (f configFile) blame(err error) error {
	var fe *flagError
	if errors.As(err, &fe) && f.set[fe.name] {
		return fmt.Errorf("config file %s: %s: %w", f.path, fe.name, fe.err)
	}
	return err
}

// flagError is a setting refused once read: it names the flag, which
// configFile.blame turns into the file and key that set it.
type flagError struct {
	name string // the flag's name, without dashes
	err  error
}

func (e *flagError) Error() string { return "--" + e.name + ": " + e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// flagErrorf is a flagError with a formatted reason.
func flagErrorf(name, format string, args ...any) error {
	return &flagError{name: name, err: fmt.Errorf(format, args...)}
}

// configValue is a TOML value as a flag would be given it on the command
// line.
func configValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case time.Time:
		return v.Format(time.RFC3339Nano), true
	}
	return "", false
}

type envError struct {
	name string
	err  error
}

func (e *envError) Error() string { return e.name + ": " + e.err.Error() }

// version is the module version the binary was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// gitHash is the commit the binary was built from, when the build recorded
// it.
func gitHash() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
