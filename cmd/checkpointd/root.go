package main

import (
	"context"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// env is the process environment as the commands see it: everything reads
// it through here, so tests can give each run its own.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// run builds the command tree and executes it with args.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "checkpointd",
		Short: "A self-hostable server for the MongoDB Cloud legacy backup checkpoints API",
		Long: `checkpointd serves the legacy backup checkpoints resource of MongoDB Cloud
(Atlas Administration API v2 and v1.0, Cloud Manager public API) over its
own store, SQLite or PostgreSQL, wire-compatible with the official clients.
"serve" runs the server; the other commands manage organizations,
projects, clusters, API keys and service accounts in the store directly.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServeCmd(e))
	root.AddCommand(newOrgsCmd(e), newProjectsCmd(e), newClustersCmd(e), newKeysCmd(e), newServiceAccountsCmd(e))
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
