package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/checkpointd/checkpointd/internal/client"
)

// The client commands (checkpoints list|get|restore-plan, restores
// create|list|get) speak to any server of the API over HTTP, checkpointd or
// MongoDB's own (the restore plan is checkpointd's alone), with
// the settings of flags, CHECKPOINTD_* variables and a profile, in that
// order.

const clientHelp = `
Each setting comes from, in this order: a flag; an environment variable
CHECKPOINTD_ and the flag's name in upper case with underscores (e.g.
CHECKPOINTD_PRIVATE_KEY, which keeps the secret off the command line); the
profile --profile names in the profiles file (--profiles, by default
$XDG_CONFIG_HOME/checkpointd/profiles.toml or
~/.config/checkpointd/profiles.toml; see "checkpointd profiles"); the
flag's default.

Credentials are either an API key (--public-key and --private-key, HTTP
Digest) or a service account (--client-id and --client-secret, whose
access token is taken from the server's /api/oauth/token).

--api picks the API generation: atlas-v2 (the Atlas Administration API v2,
the default), atlas-v1 (Atlas v1.0) or cloud-manager (the Cloud Manager and
Ops Manager public API, where --cluster is the cluster's id, not its name).`

// clientFlags are the settings every client command shares.
type clientFlags struct {
	baseURL      string
	api          string
	publicKey    string
	privateKey   string
	clientID     string
	clientSecret string
	profile      string
	profiles     string
	project      string
	cluster      string
	output       string
}

func newCheckpointsCmd(e *env) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "checkpoints",
		Short: "List and read backup checkpoints from a server over its API",
		Long: `List and read the backup checkpoints of a cluster from a server of the
checkpoints API: checkpointd, or MongoDB Atlas or Cloud Manager.
` + clientHelp,
		Example: `  checkpointd checkpoints list --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 \
    --public-key qhzvmtkr --private-key 6f1c1a2e-8d1b-4c3e-9a57-0e5b2f7d9c41
  checkpointd checkpoints list --profile demo --cluster Cluster0 --all --output json
  checkpointd checkpoints get --profile demo --cluster Cluster0 --id 6b0187c380eef53de5000002`,
		Args:                       cobra.ArbitraryArgs,
		DisableFlagsInUseLine:      true,
		SuggestionsMinimumDistance: 2,
		RunE:                       groupRunE,
	}
	addClientFlags(e, cmd, &cf)
	cmd.AddCommand(newCheckpointsListCmd(e, &cf), newCheckpointsGetCmd(e, &cf), newRestorePlanCmd(e, &cf))
	return cmd
}

// addClientFlags adds the settings every client command shares to cmd
// and its subcommands.
func addClientFlags(e *env, cmd *cobra.Command, cf *clientFlags) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&cf.baseURL, "base-url", "http://127.0.0.1:8080", "the server's base URL, e.g. https://cloud.mongodb.com")
	pf.StringVar(&cf.api, "api", string(client.AtlasV2), "API generation: atlas-v2, atlas-v1 or cloud-manager")
	pf.StringVar(&cf.publicKey, "public-key", "", "API key: public key (HTTP Digest user name)")
	pf.StringVar(&cf.privateKey, "private-key", "", "API key: private key (better in CHECKPOINTD_PRIVATE_KEY or a profile)")
	pf.StringVar(&cf.clientID, "client-id", "", "service account: client id (mdb_sa_id_…)")
	pf.StringVar(&cf.clientSecret, "client-secret", "", "service account: client secret (better in CHECKPOINTD_CLIENT_SECRET or a profile)")
	pf.StringVar(&cf.profile, "profile", "default", "profile of the profiles file to take settings from")
	pf.StringVar(&cf.profiles, "profiles", "", "profiles `FILE` (default $XDG_CONFIG_HOME/checkpointd/profiles.toml or ~/.config/checkpointd/profiles.toml)")
	pf.StringVar(&cf.project, "project", "", "project (group) id")
	pf.StringVar(&cf.cluster, "cluster", "", "cluster name (with --api cloud-manager: the cluster's id)")
	pf.StringVarP(&cf.output, "output", "o", "table", "output format: table, or json (the server's JSON, indented)")
	registerClientCompletion(e, cmd)
}

// groupRunE makes a command grouping subcommands runnable, so that an
// unknown subcommand is an error rather than a help text and a zero exit
// status.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return errors.New(msg)
	}
	return cmd.Help()
}

// registerClientCompletion completes the values of --output, --api and
// --profile.
func registerClientCompletion(e *env, cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table\taligned columns", "json\tthe server's JSON"}, cobra.ShellCompDirectiveNoFileComp))
	registerAPICompletion(cmd)
	_ = cmd.RegisterFlagCompletionFunc("profile", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		ps, _, err := client.LoadProfiles(profilesPath(e, cmd.Flags()))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return ps.Names(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkPersistentFlagFilename("profiles", "toml")
}

// registerAPICompletion completes the values of --api.
func registerAPICompletion(cmd *cobra.Command) {
	apis := make([]string, len(client.APIs))
	for i, a := range client.APIs {
		apis[i] = string(a)
	}
	_ = cmd.RegisterFlagCompletionFunc("api", cobra.FixedCompletions(apis, cobra.ShellCompDirectiveNoFileComp))
}

// profilesPath is the profiles file: --profiles, CHECKPOINTD_PROFILES, or
// the default place.
func profilesPath(e *env, fs *pflag.FlagSet) string {
	if f := fs.Lookup("profiles"); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	if p := e.getenv("CHECKPOINTD_PROFILES"); p != "" {
		return p
	}
	return client.DefaultProfilesPath(e.getenv)
}

// resolve applies the environment, then the profile, to the flags the
// command line left alone, checks them, and returns a client.
func (cf *clientFlags) resolve(e *env, cmd *cobra.Command) (*client.Client, error) {
	fs := cmd.Flags()
	if err := bindEnv(e, fs); err != nil {
		return nil, err
	}
	if err := applyProfile(e, fs); err != nil {
		return nil, err
	}
	if err := checkOutput(cf.output); err != nil {
		return nil, err
	}
	api, err := client.ParseAPI(cf.api)
	if err != nil {
		return nil, fmt.Errorf("--api: %w", err)
	}
	if cf.project == "" {
		return nil, errors.New("--project is required (or project_id in the profile)")
	}
	if cf.cluster == "" {
		if api == client.CloudManager {
			return nil, errors.New("--cluster is required: the cluster's id on Cloud Manager")
		}
		return nil, errors.New("--cluster is required")
	}
	return client.New(client.Config{
		BaseURL: cf.baseURL,
		API:     api,
		Credentials: client.Credentials{
			PublicKey: cf.publicKey, PrivateKey: cf.privateKey,
			ClientID: cf.clientID, ClientSecret: cf.clientSecret,
		},
		UserAgent: "checkpointd/" + version(),
	})
}

// applyProfile sets the flags neither the command line nor the
// environment set from the profile --profile names. A missing file or
// default profile is no profile; a named profile that is missing is an
// error.
func applyProfile(e *env, fs *pflag.FlagSet) error {
	path := profilesPath(e, fs)
	name := fs.Lookup("profile")
	if path == "" {
		if name.Changed {
			return fmt.Errorf("--profile %s: no profiles file (set --profiles, XDG_CONFIG_HOME or HOME)", name.Value)
		}
		return nil
	}
	ps, warning, err := client.LoadProfiles(path)
	if warning != "" {
		fmt.Fprintln(e.stderr, "warning:", warning)
	}
	if err != nil {
		return err
	}
	p, ok := ps[name.Value.String()]
	if !ok {
		if name.Changed {
			return fmt.Errorf("--profile %s: no such profile in %s (see checkpointd profiles list)", name.Value, path)
		}
		return nil
	}
	// A credential kind given by a flag or variable replaces the
	// profile's other kind rather than mixing with it (a --client-id with
	// the profile's API key, say); within a kind, each setting is taken
	// from its own level (a --private-key with the profile's public key).
	keyGiven := fs.Changed("public-key") || fs.Changed("private-key")
	accountGiven := fs.Changed("client-id") || fs.Changed("client-secret")
	for _, k := range client.ProfileKeys {
		f := fs.Lookup(k.Flag)
		v := p.Get(k.Key)
		if f == nil || f.Changed || v == "" {
			continue
		}
		if accountGiven && (k.Flag == "public-key" || k.Flag == "private-key") || keyGiven && (k.Flag == "client-id" || k.Flag == "client-secret") {
			continue
		}
		if err := fs.Set(k.Flag, v); err != nil {
			return fmt.Errorf("profile %s in %s: %s: %w", name.Value, path, k.Key, err)
		}
	}
	return nil
}

func newCheckpointsListCmd(e *env, cf *clientFlags) *cobra.Command {
	var page, perPage int
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a cluster's checkpoints, oldest first",
		Long: `List a cluster's checkpoints, oldest first: one page (--page,
--items-per-page), or with --all every page.
` + clientHelp,
		Example: `  checkpointd checkpoints list --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --items-per-page 5
  checkpointd checkpoints list --api cloud-manager --project 5e2211c17a3e5a48f5497de3 --cluster 6b8cd61180eef547110159db --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.resolve(e, cmd)
			if err != nil {
				return err
			}
			switch {
			case all && cmd.Flags().Changed("page"):
				return errors.New("--all reads every page: give either --all or --page")
			case page < 0:
				return fmt.Errorf("--page: %d: pages start at 1", page)
			case perPage < 0 || perPage > 500:
				return fmt.Errorf("--items-per-page: %d: want 1 to 500", perPage)
			}
			var p *client.Page
			if all {
				n := perPage
				if n == 0 {
					n = 500 // the most a page holds: the fewest requests
				}
				p, err = c.ListAllCheckpoints(cmd.Context(), cf.project, cf.cluster, n)
			} else {
				p, err = c.ListCheckpoints(cmd.Context(), cf.project, cf.cluster, client.ListOptions{PageNum: page, ItemsPerPage: perPage})
			}
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printListJSON(e.stdout, p, all)
			}
			if err := printCheckpoints(e.stdout, p.Results); err != nil {
				return err
			}
			if !all {
				printPageNote(e.stderr, p, page, perPage)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&page, "page", 0, "page number, from 1 (the server's default: 1)")
	f.IntVar(&perPage, "items-per-page", 0, "checkpoints a page, 1 to 500 (the server's default: 100; with --all: 500)")
	f.BoolVar(&all, "all", false, fmt.Sprintf("read every page (at most %d)", client.MaxPages))
	return cmd
}

func newCheckpointsGetCmd(e *env, cf *clientFlags) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Show one checkpoint and its parts",
		Long: `Show one checkpoint: when it was taken, whether it can be restored, and
for each shard and config server whether its token was found in the oplog
and at which timestamp.
` + clientHelp,
		Example: `  checkpointd checkpoints get --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --id 6b0187c380eef53de5000002`,
		Args:    cobra.NoArgs,
		RunE: runGet(e, cf, &id, "a checkpoint's id, as checkpoints list prints it",
			func(ctx context.Context, c *client.Client, id string) (json.RawMessage, func(io.Writer) error, error) {
				cp, raw, err := c.GetCheckpoint(ctx, cf.project, cf.cluster, id)
				return raw, func(w io.Writer) error { return printCheckpoint(w, cp) }, err
			}),
	}
	cmd.Flags().StringVar(&id, "id", "", "the checkpoint's id")
	return cmd
}

// runGet is the RunE of a command that shows one resource named by --id
// (id; idHelp says what it is): the server's JSON, indented, with
// --output json, else the table get returns.
func runGet(e *env, cf *clientFlags, id *string, idHelp string,
	get func(ctx context.Context, c *client.Client, id string) (json.RawMessage, func(io.Writer) error, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		c, err := cf.resolve(e, cmd)
		if err != nil {
			return err
		}
		if *id == "" {
			return errors.New("--id is required: " + idHelp)
		}
		raw, show, err := get(cmd.Context(), c, *id)
		if err != nil {
			return err
		}
		if cf.output == "json" {
			_, err := fmt.Fprintf(e.stdout, "%s\n", client.Pretty(raw))
			return err
		}
		return show(e.stdout)
	}
}

// printListJSON prints a page as the server sent it, indented; with --all
// the pages are joined into one object of the list's shape.
func printListJSON(w io.Writer, p *client.Page, all bool) error {
	if !all {
		_, err := fmt.Fprintf(w, "%s\n", client.Pretty(p.Body))
		return err
	}
	var b strings.Builder
	b.WriteString(`{"results":[`)
	for i, r := range p.Raw {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	fmt.Fprintf(&b, `],"totalCount":%d}`, p.TotalCount)
	_, err := fmt.Fprintf(w, "%s\n", client.Pretty([]byte(b.String())))
	return err
}

// printCheckpoints writes a table of checkpoints.
func printCheckpoints(w io.Writer, cps []client.Checkpoint) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIMESTAMP\tRESTORABLE\tSTARTED\tCOMPLETED\tPARTS")
	for _, c := range cps {
		fmt.Fprintln(tw, strings.Join([]string{cell(c.ID), clientTime(c.Timestamp), yesNo(c.Restorable),
			clientTime(c.Started), clientTime(c.Completed), c.PartsSummary()}, "\t"))
	}
	return tw.Flush()
}

// printPageNote says on stderr which part of the list a page was, and how
// to get the rest, leaving stdout to the table.
func printPageNote(w io.Writer, p *client.Page, page, perPage int) {
	if page == 0 {
		page = 1
	}
	if perPage == 0 {
		perPage = 100
	}
	if p.TotalCount == 0 {
		return
	}
	if len(p.Results) == 0 {
		fmt.Fprintf(w, "page %d is past the end: %d checkpoints in all\n", page, p.TotalCount)
		return
	}
	first := (page-1)*perPage + 1
	fmt.Fprintf(w, "checkpoints %d to %d of %d", first, first+len(p.Results)-1, p.TotalCount)
	if first+len(p.Results)-1 < p.TotalCount {
		fmt.Fprintf(w, "; next: --page %d, or --all for every page", page+1)
	}
	fmt.Fprintln(w)
}

// printCheckpoint writes one checkpoint: its fields, then a table of its
// parts (with a HOST ID column when a part has one: mirrored config
// servers on Cloud Manager).
func printCheckpoint(w io.Writer, c *client.Checkpoint) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"ID", c.ID}, {"CLUSTER ID", c.ClusterID}, {"PROJECT ID", c.GroupID},
		{"TIMESTAMP", clientTime(c.Timestamp)}, {"RESTORABLE", yesNo(c.Restorable)},
		{"STARTED", clientTime(c.Started)}, {"COMPLETED", clientTime(c.Completed)},
		{"PARTS", c.PartsSummary()},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], cell(kv[1]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(c.Parts) == 0 {
		return nil
	}
	hosts := false
	for _, p := range c.Parts {
		hosts = hosts || p.HostID != ""
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "TYPE\tSHARD\tREPLICA SET\tDISCOVERED\tTOKEN TIMESTAMP"
	if hosts {
		header += "\tHOST ID"
	}
	fmt.Fprintln(tw, header)
	for _, p := range c.Parts {
		ts := ""
		if p.TokenTimestamp != nil && !p.TokenTimestamp.Date.IsZero() {
			ts = fmt.Sprintf("%s inc %d", clientTime(p.TokenTimestamp.Date), p.TokenTimestamp.Increment)
		}
		row := []string{cell(string(p.TypeName)), cell(p.ShardName), cell(p.ReplicaSetName), yesNo(p.TokenDiscovered), cell(ts)}
		if hosts {
			row = append(row, cell(p.HostID))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// clientTime prints a time as the API does, RFC 3339 in UTC; "-" when
// absent.
func clientTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return timeText(t)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
