package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/client"
)

const profilesHelp = `
The profiles file is TOML, one table per profile, with the keys base_url,
public_key, private_key, client_id, client_secret, project_id and api (each
the value of the client flag of that name; project_id is --project):

  [default]
  base_url = "http://127.0.0.1:8080"
  public_key = "qhzvmtkr"
  private_key = "6f1c1a2e-8d1b-4c3e-9a57-0e5b2f7d9c41"
  project_id = "5e2211c17a3e5a48f5497de3"

It is --profiles, CHECKPOINTD_PROFILES, or by default
$XDG_CONFIG_HOME/checkpointd/profiles.toml (~/.config/checkpointd/profiles.toml
without XDG_CONFIG_HOME). It holds secrets: "profiles set" writes it with
mode 0600, and the client commands warn when others may read it.`

func newProfilesCmd(e *env) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "Manage the client commands' profiles (server, credentials, project)",
		Long: `Manage named profiles of settings for the client commands
("checkpoints list", "checkpoints get"): the server, the credentials, the
project and the API generation. A client command takes the profile
--profile names ("default" unless given) for the settings that neither a
flag nor a CHECKPOINTD_* variable gives.
` + profilesHelp,
		Example: `  checkpointd profiles set default --base-url http://127.0.0.1:8080 \
    --public-key qhzvmtkr --private-key 6f1c1a2e-8d1b-4c3e-9a57-0e5b2f7d9c41 \
    --project 5e2211c17a3e5a48f5497de3
  checkpointd profiles list`,
		Args:                       cobra.ArbitraryArgs,
		DisableFlagsInUseLine:      true,
		SuggestionsMinimumDistance: 2,
		RunE:                       groupRunE,
	}
	cmd.PersistentFlags().StringVar(&path, "profiles", "", "profiles `FILE` (default $XDG_CONFIG_HOME/checkpointd/profiles.toml or ~/.config/checkpointd/profiles.toml)")
	_ = cmd.MarkPersistentFlagFilename("profiles", "toml")
	cmd.AddCommand(newProfilesSetCmd(e), newProfilesListCmd(e), newProfilesDeleteCmd(e))
	return cmd
}

// profilesFile returns the profiles file a profiles command works on.
func profilesFile(e *env, cmd *cobra.Command) (string, error) {
	p := profilesPath(e, cmd.Flags())
	if p == "" {
		return "", errors.New("no profiles file: give --profiles, or set XDG_CONFIG_HOME or HOME")
	}
	return p, nil
}

// loadProfilesFor reads the profiles file, warning on stderr when others
// may read it.
func loadProfilesFor(e *env, path string) (client.Profiles, error) {
	ps, warning, err := client.LoadProfiles(path)
	if warning != "" {
		fmt.Fprintln(e.stderr, "warning:", warning)
	}
	return ps, err
}

func newProfilesSetCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Create a profile or change its settings",
		Long: `Create the profile NAME or change the settings given as flags; the others
keep their values. An empty value ('') removes a setting. The file is
written with mode 0600.
` + profilesHelp,
		Example: `  checkpointd profiles set demo --public-key qhzvmtkr --private-key 6f1c1a2e-8d1b-4c3e-9a57-0e5b2f7d9c41 --project 5e2211c17a3e5a48f5497de3
  checkpointd profiles set atlas --base-url https://cloud.mongodb.com --client-id mdb_sa_id_… --client-secret mdb_sa_sk_…
  checkpointd profiles set demo --public-key '' --private-key ''   # drop the API key`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := profilesFile(e, cmd)
			if err != nil {
				return err
			}
			name := args[0]
			if name == "" {
				return errors.New("a profile needs a name")
			}
			ps, err := loadProfilesFor(e, path)
			if err != nil {
				return err
			}
			p := ps[name]
			changed := false
			for _, k := range client.ProfileKeys {
				if f := cmd.Flags().Lookup(k.Flag); f != nil && f.Changed {
					p.Set(k.Key, f.Value.String())
					changed = true
				}
			}
			if !changed {
				return errors.New("nothing to set: give at least one of --base-url, --public-key, --private-key, --client-id, --client-secret, --project, --api")
			}
			if err := p.Check(); err != nil {
				return fmt.Errorf("profile %s: %w", name, err)
			}
			if p.BaseURL != "" {
				// The same check a client command makes, now rather than
				// at the first use.
				if _, err := client.New(client.Config{BaseURL: p.BaseURL, Credentials: client.Credentials{PublicKey: "x", PrivateKey: "x"}}); err != nil {
					return fmt.Errorf("--base-url: %w", err)
				}
			}
			ps[name] = p
			if err := client.SaveProfiles(path, ps); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "profile %s saved in %s\n", name, path)
			return nil
		},
	}
	f := cmd.Flags()
	f.String("base-url", "", "the server's base URL, e.g. https://cloud.mongodb.com")
	f.String("api", "", "API generation: atlas-v2, atlas-v1 or cloud-manager")
	f.String("public-key", "", "API key: public key")
	f.String("private-key", "", "API key: private key")
	f.String("client-id", "", "service account: client id")
	f.String("client-secret", "", "service account: client secret")
	f.String("project", "", "project (group) id")
	registerAPICompletion(cmd)
	return cmd
}

// profileRow is a profile as profiles list prints it: never its secrets.
type profileRow struct {
	Name        string `json:"name"`
	BaseURL     string `json:"base_url,omitempty"`
	API         string `json:"api,omitempty"`
	ProjectID   string `json:"project_id,omitempty"`
	Credentials string `json:"credentials,omitempty"`
}

func newProfilesListCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the profiles, without their secrets",
		Long: `List the profiles: name, server, API generation, project and whose
credentials (the public key or client id; private keys and client secrets
are never printed).
` + profilesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			path, err := profilesFile(e, cmd)
			if err != nil {
				return err
			}
			ps, err := loadProfilesFor(e, path)
			if err != nil {
				return err
			}
			rows := make([]profileRow, 0, len(ps))
			for _, n := range ps.Names() {
				p := ps[n]
				rows = append(rows, profileRow{Name: n, BaseURL: p.BaseURL, API: p.API, ProjectID: p.ProjectID, Credentials: p.Credentials()})
			}
			return printList(e.stdout, output, rows, []string{"NAME", "BASE URL", "API", "PROJECT", "CREDENTIALS"}, func(r profileRow) []string {
				return []string{r.Name, r.BaseURL, r.API, r.ProjectID, r.Credentials}
			})
		},
	}
	outputFlag(cmd, &output)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newProfilesDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a profile",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			ps, _, err := client.LoadProfiles(profilesPath(e, cmd.Flags()))
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return ps.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := profilesFile(e, cmd)
			if err != nil {
				return err
			}
			ps, err := loadProfilesFor(e, path)
			if err != nil {
				return err
			}
			if _, ok := ps[args[0]]; !ok {
				return fmt.Errorf("no profile %s in %s", args[0], path)
			}
			delete(ps, args[0])
			if err := client.SaveProfiles(path, ps); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "profile %s deleted from %s\n", args[0], path)
			return nil
		},
	}
}
