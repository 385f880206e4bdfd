package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
)

// grantFlags are the flags that give an API key or a service account its
// roles and access list.
type grantFlags struct {
	org          string
	desc         string
	roles        []string
	projectRoles []string
	accessList   []string
}

func (g *grantFlags) add(cmd *cobra.Command, what string) {
	f := cmd.Flags()
	f.StringVar(&g.org, "org", "", "id of the organization (required)")
	f.StringVar(&g.desc, "desc", "", "description (up to 250 bytes)")
	f.StringSliceVar(&g.roles, "role", nil, "organization role: "+roleNames(admin.OrgRoles)+" (repeatable)")
	f.StringSliceVar(&g.projectRoles, "project-role", nil, "role on a project, as PROJECT_ID:ROLE, e.g. PROJECT_ID:GROUP_READ_ONLY (repeatable)")
	f.StringSliceVar(&g.accessList, "access-list", nil, "IP address or CIDR block "+what+" may be used from (repeatable; default: any address)")
}

// parse checks the flags in the order they are listed.
func (g *grantFlags) parse() (backup.ObjectID, []backup.Grant, []netip.Prefix, error) {
	org, err := parseOrgID("--org", g.org)
	if err != nil {
		return org, nil, nil, err
	}
	grants, err := admin.ParseGrants(g.roles, g.projectRoles)
	if err != nil {
		return org, nil, nil, err
	}
	if len(grants) == 0 {
		return org, nil, nil, fmt.Errorf("give at least one --role or --project-role")
	}
	access, err := admin.ParseAccessList(g.accessList)
	if err != nil {
		return org, nil, nil, err
	}
	return org, grants, access, nil
}

func roleNames(rs []backup.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// rolesHelp lists the roles for the long help of the create commands.
var rolesHelp = `Organization roles (--role): ` + roleNames(admin.OrgRoles) + `.
ORG_OWNER and ORG_READ_ONLY read every project of the organization;
ORG_MEMBER alone reads none.

Project roles (--project-role PROJECT_ID:ROLE), each of which reads the
project's clusters and checkpoints:
` + wrap(roleNames(admin.ProjectRoles)+".", 76, "  ") + `

--access-list restricts the addresses requests may come from: an IP
address stands for itself (/32 or /128), a CIDR block for its range.
Without it, any address may be used.`

func newKeysCmd(e *env) *cobra.Command {
	var database string
	return adminGroup("keys", "Create, list and delete programmatic API keys",
		`A programmatic API key authenticates with HTTP Digest: its public key is the
user name, its private key the password, as with Atlas API keys. Only a
hash of the private key is stored, so it is shown once, when the key is
created.`,
		`  checkpointd keys create --org 5e2211c17a3e5a48f5497de0 --role ORG_READ_ONLY --desc "backup reports"
  checkpointd keys list --org 5e2211c17a3e5a48f5497de0
  checkpointd keys delete 6b8cd61180eef547110159d9`,
		&database,
		newKeysCreateCmd(e, &database), newKeysListCmd(e, &database), newKeysDeleteCmd(e, &database))
}

func newKeysCreateCmd(e *env, database *string) *cobra.Command {
	var g grantFlags
	cmd := &cobra.Command{
		Use:   "create --org ORG_ID (--role ROLE | --project-role PROJECT_ID:ROLE)...",
		Short: "Create an API key and print it, once",
		Long: `Create an API key of organization --org with the roles given and print it:
its id, public key and private key, and the line "api key:
PUBLIC:PRIVATE" (the form curl --digest --user takes). The private key
cannot be shown again.

` + rolesHelp,
		Example: `  checkpointd keys create --org "$ORG" --role ORG_READ_ONLY
  checkpointd keys create --org "$ORG" --project-role "$PROJECT:GROUP_BACKUP_MANAGER" \
      --access-list 192.0.2.10 --access-list 10.0.0.0/8 --desc "restore tooling"`,
		Args: cobra.NoArgs,
	}
	g.add(cmd, "the key")
	cmd.RunE = adminRun(e, []string{"org"}, func(ctx context.Context, _ []string) error {
		org, grants, access, err := g.parse()
		if err != nil {
			return err
		}
		return withStore(ctx, *database, false, func(st admin.Store) error {
			k, private, err := admin.CreateAPIKey(ctx, st, org, g.desc, grants, access, e.clock)
			if err != nil {
				return err
			}
			w := e.stdout
			fmt.Fprintf(w, "id: %s\n", k.ID.Hex())
			fmt.Fprintf(w, "public key: %s\n", k.PublicKey)
			fmt.Fprintf(w, "private key: %s\n", private)
			fmt.Fprintf(w, "api key: %s:%s\n", k.PublicKey, private)
			printGrants(w, k.Grants, k.AccessList)
			fmt.Fprintln(w)
			fmt.Fprintln(w, "The private key cannot be shown again: store it now. Clients authenticate")
			fmt.Fprintln(w, "with HTTP Digest, the public key as user name and the private key as password.")
			return nil
		})
	})
	return cmd
}

func printGrants(w io.Writer, gs []backup.Grant, access []netip.Prefix) {
	fmt.Fprintf(w, "roles: %s\n", strings.ReplaceAll(rolesText(gs), ",", ", "))
	fmt.Fprintf(w, "access list: %s\n", strings.ReplaceAll(accessListText(access), ",", ", "))
}

// keyJSON is an API key in list --output json: never its secret.
type keyJSON struct {
	ID          string     `json:"id"`
	OrgID       string     `json:"orgId"`
	PublicKey   string     `json:"publicKey"`
	Description string     `json:"desc"`
	Roles       []roleJSON `json:"roles"`
	AccessList  []string   `json:"accessList"`
	Created     string     `json:"created"`
}

func newKeysListCmd(e *env, database *string) *cobra.Command {
	var org, output string
	cmd := &cobra.Command{
		Use:   "list --org ORG_ID",
		Short: "List an organization's API keys",
		Long: `List the API keys of organization --org, ordered by id, with their roles and
access lists. Private keys are never stored, so never listed.`,
		Example: `  checkpointd keys list --org 5e2211c17a3e5a48f5497de0 -o json`,
		Args:    cobra.NoArgs,
		RunE: adminRun(e, []string{"org"}, func(ctx context.Context, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			id, err := parseOrgID("--org", org)
			if err != nil {
				return err
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				keys, err := st.APIKeys(ctx, id)
				if err != nil {
					return err
				}
				items := make([]keyJSON, len(keys))
				for i, k := range keys {
					items[i] = keyJSON{ID: k.ID.Hex(), OrgID: k.OrgID.Hex(), PublicKey: k.PublicKey, Description: k.Description,
						Roles: rolesJSON(k.Grants), AccessList: accessListJSON(k.AccessList), Created: timeText(k.Created)}
				}
				return printList(e.stdout, output, items, []string{"ID", "PUBLIC KEY", "DESCRIPTION", "ROLES", "ACCESS LIST", "CREATED"},
					func(k keyJSON) []string {
						return []string{k.ID, k.PublicKey, k.Description, rolesTextJSON(k.Roles), accessListTextJSON(k.AccessList), k.Created}
					})
			})
		}),
	}
	cmd.Flags().StringVar(&org, "org", "", "id of the organization (required)")
	outputFlag(cmd, &output)
	return cmd
}

func rolesTextJSON(rs []roleJSON) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.RoleName
		if r.GroupID != "" {
			s[i] = r.GroupID + ":" + r.RoleName
		}
	}
	return strings.Join(s, ",")
}

func accessListTextJSON(a []string) string {
	if len(a) == 0 {
		return "any"
	}
	return strings.Join(a, ",")
}

func newKeysDeleteCmd(e *env, database *string) *cobra.Command {
	return &cobra.Command{
		Use:   "delete KEY_ID|PUBLIC_KEY",
		Short: "Delete an API key",
		Long: `Delete an API key, named by its id or its public key (8 lowercase
letters). Requests signed with it are refused from then on.`,
		Example: `  checkpointd keys delete 6b8cd61180eef547110159d9
  checkpointd keys delete abcdefgh`,
		Args: cobra.ExactArgs(1),
		RunE: adminRun(e, nil, func(ctx context.Context, args []string) error {
			ref, err := admin.ParseAPIKeyRef(args[0])
			if err != nil {
				return err
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				id, err := admin.DeleteAPIKey(ctx, st, ref)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "deleted API key %s\n", id.Hex())
				return nil
			})
		}),
	}
}

func newServiceAccountsCmd(e *env) *cobra.Command {
	var database string
	return adminGroup("service-accounts", "Create, list and delete service accounts",
		`A service account is an OAuth 2.0 client of an organization: it trades its
client id and secret for an access token at POST /api/oauth/token (the
client credentials grant) and calls the API with the token, as with Atlas
service accounts. Only a hash of the secret is stored, so it is shown
once, when the service account is created.`,
		`  checkpointd service-accounts create --org 5e2211c17a3e5a48f5497de0 --name exporter --role ORG_READ_ONLY
  checkpointd service-accounts list --org 5e2211c17a3e5a48f5497de0
  checkpointd service-accounts delete mdb_sa_id_0123456789abcdef01234567`,
		&database,
		newServiceAccountsCreateCmd(e, &database), newServiceAccountsListCmd(e, &database), newServiceAccountsDeleteCmd(e, &database))
}

func newServiceAccountsCreateCmd(e *env, database *string) *cobra.Command {
	var g grantFlags
	var name string
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "create --org ORG_ID --name NAME (--role ROLE | --project-role PROJECT_ID:ROLE)...",
		Short: "Create a service account and print its secret, once",
		Long: `Create a service account of organization --org with the roles given, and a
secret that expires after --secret-expires (` + hoursText(admin.MinSecretTTL) + ` to ` + hoursText(admin.MaxSecretTTL) + `), and print
its client id and client secret. The secret cannot be shown again.

` + rolesHelp,
		Example: `  checkpointd service-accounts create --org "$ORG" --name exporter --role ORG_READ_ONLY
  checkpointd service-accounts create --org "$ORG" --name restore --project-role "$PROJECT:GROUP_OWNER" \
      --secret-expires 720h --access-list 10.0.0.0/8`,
		Args: cobra.NoArgs,
	}
	g.add(cmd, "its tokens")
	cmd.Flags().StringVar(&name, "name", "", "name (required, up to 64 bytes)")
	cmd.Flags().DurationVar(&expires, "secret-expires", admin.MaxSecretTTL, "lifetime of the secret, in hours (e.g. 720h)")
	cmd.RunE = adminRun(e, []string{"org", "name"}, func(ctx context.Context, _ []string) error {
		org, grants, access, err := g.parse()
		if err != nil {
			return err
		}
		return withStore(ctx, *database, false, func(st admin.Store) error {
			sa, secret, err := admin.CreateServiceAccount(ctx, st, org, name, g.desc, grants, access, expires, e.clock)
			if err != nil {
				return err
			}
			w := e.stdout
			fmt.Fprintf(w, "client id: %s\n", sa.ClientID)
			fmt.Fprintf(w, "client secret: %s\n", secret)
			fmt.Fprintf(w, "secret expires: %s\n", timeText(sa.Created.Add(expires)))
			printGrants(w, sa.Grants, sa.AccessList)
			fmt.Fprintln(w)
			fmt.Fprintln(w, "The client secret cannot be shown again: store it now. Clients get access")
			fmt.Fprintln(w, "tokens from POST /api/oauth/token with the client credentials grant.")
			return nil
		})
	})
	return cmd
}

// wrap breaks s into lines of at most width characters at spaces, each
// prefixed with indent.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(s) {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	b.WriteString(line)
	return b.String()
}

func hoursText(d time.Duration) string { return strconv.Itoa(int(d/time.Hour)) + "h" }

// serviceAccountJSON is a service account in list --output json: its
// secrets' dates, never the secrets or their hashes.
type serviceAccountJSON struct {
	ClientID    string       `json:"clientId"`
	OrgID       string       `json:"orgId"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Roles       []roleJSON   `json:"roles"`
	AccessList  []string     `json:"accessList"`
	Secrets     []secretJSON `json:"secrets"`
	Created     string       `json:"created"`
}

type secretJSON struct {
	ID      string `json:"id"`
	Created string `json:"created"`
	Expires string `json:"expires"`
}

func newServiceAccountsListCmd(e *env, database *string) *cobra.Command {
	var org, output string
	cmd := &cobra.Command{
		Use:   "list --org ORG_ID",
		Short: "List an organization's service accounts",
		Long: `List the service accounts of organization --org, ordered by client id, with
their roles, access lists and when their secrets expire. Secrets are never
stored, so never listed.`,
		Example: `  checkpointd service-accounts list --org 5e2211c17a3e5a48f5497de0 -o json`,
		Args:    cobra.NoArgs,
		RunE: adminRun(e, []string{"org"}, func(ctx context.Context, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			id, err := parseOrgID("--org", org)
			if err != nil {
				return err
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				sas, err := admin.ListServiceAccounts(ctx, st, id)
				if err != nil {
					return err
				}
				items := make([]serviceAccountJSON, len(sas))
				for i, sa := range sas {
					items[i] = serviceAccountJSON{ClientID: sa.ClientID, OrgID: sa.OrgID.Hex(), Name: sa.Name, Description: sa.Description,
						Roles: rolesJSON(sa.Grants), AccessList: accessListJSON(sa.AccessList), Secrets: []secretJSON{}, Created: timeText(sa.Created)}
					for _, s := range sa.Secrets {
						items[i].Secrets = append(items[i].Secrets, secretJSON{ID: s.ID.Hex(), Created: timeText(s.Created), Expires: timeText(s.Expires)})
					}
				}
				return printList(e.stdout, output, items,
					[]string{"CLIENT ID", "NAME", "DESCRIPTION", "ROLES", "ACCESS LIST", "SECRET EXPIRES", "CREATED"},
					func(sa serviceAccountJSON) []string {
						// Secrets are newest first; the latest expiry is
						// how long the account keeps working.
						expires := ""
						for _, s := range sa.Secrets {
							expires = max(expires, s.Expires)
						}
						return []string{sa.ClientID, sa.Name, sa.Description, rolesTextJSON(sa.Roles), accessListTextJSON(sa.AccessList), expires, sa.Created}
					})
			})
		}),
	}
	cmd.Flags().StringVar(&org, "org", "", "id of the organization (required)")
	outputFlag(cmd, &output)
	return cmd
}

func newServiceAccountsDeleteCmd(e *env, database *string) *cobra.Command {
	return &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a service account with its secrets",
		Long: `Delete a service account and its secrets. The access tokens it was given
are refused from then on, and it can get no new ones.`,
		Example: `  checkpointd service-accounts delete mdb_sa_id_0123456789abcdef01234567`,
		Args:    cobra.ExactArgs(1),
		RunE: adminRun(e, nil, func(ctx context.Context, args []string) error {
			clientID := strings.TrimSpace(args[0])
			if !backup.ValidClientID(clientID) {
				return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
					"%q is not a client id, which is mdb_sa_id_ and 24 hexadecimal digits.", clientID)
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				if err := st.DeleteServiceAccount(ctx, clientID); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "deleted service account %s\n", clientID)
				return nil
			})
		}),
	}
}
