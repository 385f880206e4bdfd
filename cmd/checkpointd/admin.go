package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/open"
)

// The admin commands (orgs, projects, clusters, keys, service-accounts)
// work on the store directly, the way serve opens it. SQLite lets them run
// while a server has the same file open.

// adminHelp is the part of every admin group's long help that describes
// the database and the environment.
const adminHelp = `
These commands work on the database directly (--database, the file serve
uses), and may run while the server is up. Every flag can also be set with
an environment variable named CHECKPOINTD_ and the flag's name in upper
case with underscores, e.g. CHECKPOINTD_DATABASE=/var/lib/checkpointd.db.
They refuse a damaged SQLite file (PRAGMA quick_check), which is to be
restored from a backup: see checkpointd restore --help.`

// adminGroup makes a command grouping admin subcommands, with the
// --database flag they share. Run without a subcommand it prints its help.
func adminGroup(use, short, long, example string, database *string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:                        use,
		Short:                      short,
		Long:                       long + "\n" + adminHelp,
		Example:                    example,
		Args:                       cobra.ArbitraryArgs,
		DisableFlagsInUseLine:      true,
		SuggestionsMinimumDistance: 2,
		// Runnable, so that an unknown subcommand is an error rather than
		// a help text and a zero exit status.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += "; did you mean " + strings.Join(s, " or ") + "?"
				}
				return errors.New(msg)
			}
			return cmd.Help()
		},
	}
	cmd.PersistentFlags().StringVar(database, "database", "checkpointd.db", "SQLite database file, or a postgres:// URL: the one serve uses")
	cmd.AddCommand(subs...)
	return cmd
}

// adminRun makes the RunE of an admin command: it applies the
// environment, checks that the required flags are set, and returns the
// errors of the store and of admin as their detail and code.
func adminRun(e *env, required []string, fn func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		flags := cmd.Flags()
		if err := bindEnv(e, flags); err != nil {
			return err
		}
		for _, name := range required {
			if f := flags.Lookup(name); f != nil && !f.Changed {
				return fmt.Errorf("--%s is required", name)
			}
		}
		// The operator at the command line acts as the server itself.
		return describe(fn(backup.WithPrincipal(cmd.Context(), backup.System), args))
	}
}

// storeError shows a *backup.Error as its detail and code, and the
// driver's error behind a 503 (the database unreachable or full): unlike
// an API caller, the operator needs it and may see it.
type storeError struct{ err *backup.Error }

func (e *storeError) Error() string {
	s := e.err.Detail + " (" + e.err.Code + ")"
	if e.err.Err != nil {
		s += ": " + e.err.Err.Error()
	}
	return s
}
func (e *storeError) Unwrap() error { return e.err }

// describe turns the errors of the store and of admin into their detail
// and code; other errors pass unchanged.
func describe(err error) error {
	if be := backup.ErrorOf(err); be != nil && be.Kind != backup.Internal {
		return &storeError{err: be}
	}
	return err
}

// openStore opens the database. Only create makes a new file: every other
// command names things that must already be in it, so a missing file is
// a mistyped --database rather than an empty data set. A damaged file is
// refused, as serve refuses it, so that no command writes to it.
func openStore(ctx context.Context, path string, create bool) (open.Store, error) {
	if !create && !open.IsPostgres(path) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("database %s does not exist: give the server's file with --database (or CHECKPOINTD_DATABASE), or create an organization first with `checkpointd orgs create`", path)
		}
	}
	db, err := open.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := open.CheckIntegrity(ctx, db, open.DefaultIntegrityCheck); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// withStore opens the database, runs fn on it and closes it.
func withStore(ctx context.Context, path string, create bool, fn func(st admin.Store) error) error {
	db, err := openStore(ctx, path, create)
	if err != nil {
		return err
	}
	err = fn(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// parseID parses the id of an organization or project given as flag or
// argument what, accepting upper-case hex digits too.
func parseID(what, noun, code, s string) (backup.ObjectID, error) {
	id, ok := backup.ParseObjectID(strings.ToLower(strings.TrimSpace(s)))
	if !ok {
		return id, backup.Errorf(backup.Invalid, code, "%s: %q is not %s id, which is 24 hexadecimal digits.", what, s, noun)
	}
	return id, nil
}

func parseOrgID(what, s string) (backup.ObjectID, error) {
	return parseID(what, "an organization", backup.CodeInvalidOrgID, s)
}

func parseProjectID(what, s string) (backup.ObjectID, error) {
	return parseID(what, "a project", backup.CodeInvalidGroupID, s)
}

// outputFlag adds --output to a list command.
func outputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", "table", "output format: table (aligned columns) or json (an array of objects)")
}

// printList writes items as JSON (an indented array, [] when empty) or
// as a table of the header and the rows.
func printList[T any](w io.Writer, output string, items []T, header []string, row func(T) []string) error {
	switch output {
	case "json":
		if items == nil {
			items = []T{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(items)
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, it := range items {
			cells := row(it)
			for i, c := range cells {
				cells[i] = cell(c)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		return tw.Flush()
	}
	return fmt.Errorf("--output: %q is neither table nor json", output)
}

// checkOutput refuses an unknown --output before anything is read.
func checkOutput(output string) error {
	if output != "table" && output != "json" {
		return fmt.Errorf("--output: %q is neither table nor json", output)
	}
	return nil
}

// cell makes a value safe for a table cell: control characters (tabs,
// newlines) become spaces, and an empty value a dash.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// timeText prints a time the way lists and JSON do: RFC 3339, UTC.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// roleJSON is one grant, as the Atlas API prints an API key's roles.
type roleJSON struct {
	RoleName string `json:"roleName"`
	GroupID  string `json:"groupId,omitempty"`
}

func rolesJSON(gs []backup.Grant) []roleJSON {
	out := make([]roleJSON, len(gs))
	for i, g := range gs {
		out[i] = roleJSON{RoleName: string(g.Role)}
		if !g.ProjectID.IsZero() {
			out[i].GroupID = g.ProjectID.Hex()
		}
	}
	return out
}

func rolesText(gs []backup.Grant) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = admin.FormatGrant(g)
	}
	return strings.Join(s, ",")
}

func accessListJSON(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// accessListText is an access list for a table; an empty list lets any
// address in.
func accessListText(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "any"
	}
	return strings.Join(accessListJSON(ps), ",")
}
