package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
)

func newOrgsCmd(e *env) *cobra.Command {
	var database string
	return adminGroup("orgs", "Create, list and delete organizations",
		`An organization owns projects, API keys and service accounts.`,
		`  checkpointd orgs create --name "Acme"
  checkpointd orgs list --output json
  checkpointd orgs delete 5e2211c17a3e5a48f5497de0`,
		&database,
		newOrgsCreateCmd(e, &database), newOrgsListCmd(e, &database), newOrgsDeleteCmd(e, &database))
}

func newOrgsCreateCmd(e *env, database *string) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create an organization and print its id",
		Long: `Create an organization named --name and print its id, alone on a line so
that scripts can capture it. The database file is created if it does not
exist yet.`,
		Example: `  ORG=$(checkpointd orgs create --name "Acme")`,
		Args:    cobra.NoArgs,
		RunE: adminRun(e, []string{"name"}, func(ctx context.Context, _ []string) error {
			return withStore(ctx, *database, true, func(st admin.Store) error {
				o, err := admin.CreateOrganization(ctx, st, name, time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, o.ID.Hex())
				return nil
			})
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "organization name (required)")
	return cmd
}

// orgJSON is an organization in list --output json.
type orgJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Created string `json:"created"`
}

func newOrgsListCmd(e *env, database *string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the organizations",
		Long:    `List every organization, ordered by id (which is also by creation time).`,
		Example: `  checkpointd orgs list`,
		Args:    cobra.NoArgs,
		RunE: adminRun(e, nil, func(ctx context.Context, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				orgs, err := st.Organizations(ctx)
				if err != nil {
					return err
				}
				items := make([]orgJSON, len(orgs))
				for i, o := range orgs {
					items[i] = orgJSON{ID: o.ID.Hex(), Name: o.Name, Created: timeText(o.Created)}
				}
				return printList(e.stdout, output, items, []string{"ID", "NAME", "CREATED"},
					func(o orgJSON) []string { return []string{o.ID, o.Name, o.Created} })
			})
		}),
	}
	outputFlag(cmd, &output)
	return cmd
}

func newOrgsDeleteCmd(e *env, database *string) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ORG_ID",
		Short: "Delete an organization with its API keys and service accounts",
		Long: `Delete an organization that has no projects left, together with its API
keys and service accounts. Delete its projects first.`,
		Example: `  checkpointd orgs delete 5e2211c17a3e5a48f5497de0`,
		Args:    cobra.ExactArgs(1),
		RunE: adminRun(e, nil, func(ctx context.Context, args []string) error {
			id, err := parseOrgID("organization", args[0])
			if err != nil {
				return err
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				if err := st.DeleteOrganization(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "deleted organization %s\n", id.Hex())
				return nil
			})
		}),
	}
}

func newProjectsCmd(e *env) *cobra.Command {
	var database string
	return adminGroup("projects", "Create, list and delete projects",
		`A project (a group, in the API's paths) belongs to an organization and holds
clusters.`,
		`  checkpointd projects create --org 5e2211c17a3e5a48f5497de0 --name prod
  checkpointd projects list --org 5e2211c17a3e5a48f5497de0
  checkpointd projects delete 5e2211c17a3e5a48f5497de3`,
		&database,
		newProjectsCreateCmd(e, &database), newProjectsListCmd(e, &database), newProjectsDeleteCmd(e, &database))
}

func newProjectsCreateCmd(e *env, database *string) *cobra.Command {
	var org, name string
	cmd := &cobra.Command{
		Use:     "create --org ORG_ID --name NAME",
		Short:   "Create a project and print its id",
		Long:    `Create a project named --name in organization --org and print its id.`,
		Example: `  PROJECT=$(checkpointd projects create --org "$ORG" --name prod)`,
		Args:    cobra.NoArgs,
		RunE: adminRun(e, []string{"org", "name"}, func(ctx context.Context, _ []string) error {
			orgID, err := parseOrgID("--org", org)
			if err != nil {
				return err
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				p, err := admin.CreateProject(ctx, st, orgID, name, time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, p.ID.Hex())
				return nil
			})
		}),
	}
	cmd.Flags().StringVar(&org, "org", "", "id of the organization (required)")
	cmd.Flags().StringVar(&name, "name", "", "project name (required)")
	return cmd
}

// projectJSON is a project in list --output json.
type projectJSON struct {
	ID           string `json:"id"`
	OrgID        string `json:"orgId"`
	Name         string `json:"name"`
	ClusterCount int    `json:"clusterCount"`
	Created      string `json:"created"`
}

func newProjectsListCmd(e *env, database *string) *cobra.Command {
	var org, output string
	cmd := &cobra.Command{
		Use:   "list [--org ORG_ID]",
		Short: "List projects",
		Long:  `List every project, or those of organization --org, ordered by id.`,
		Example: `  checkpointd projects list
  checkpointd projects list --org 5e2211c17a3e5a48f5497de0 --output json`,
		Args: cobra.NoArgs,
		RunE: adminRun(e, nil, func(ctx context.Context, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			var orgID backup.ObjectID
			if org != "" {
				var err error
				if orgID, err = parseOrgID("--org", org); err != nil {
					return err
				}
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				ps, err := admin.ListProjects(ctx, st, orgID)
				if err != nil {
					return err
				}
				items := make([]projectJSON, len(ps))
				for i, p := range ps {
					items[i] = projectJSON{ID: p.ID.Hex(), OrgID: p.OrgID.Hex(), Name: p.Name, ClusterCount: p.ClusterCount, Created: timeText(p.Created)}
				}
				return printList(e.stdout, output, items, []string{"ID", "ORG", "NAME", "CLUSTERS", "CREATED"},
					func(p projectJSON) []string {
						return []string{p.ID, p.OrgID, p.Name, strconv.Itoa(p.ClusterCount), p.Created}
					})
			})
		}),
	}
	cmd.Flags().StringVar(&org, "org", "", "list only this organization's projects")
	outputFlag(cmd, &output)
	return cmd
}

func newProjectsDeleteCmd(e *env, database *string) *cobra.Command {
	return &cobra.Command{
		Use:   "delete PROJECT_ID",
		Short: "Delete a project",
		Long: `Delete a project that has no clusters left. Roles that API keys and
service accounts hold on it are removed.`,
		Example: `  checkpointd projects delete 5e2211c17a3e5a48f5497de3`,
		Args:    cobra.ExactArgs(1),
		RunE: adminRun(e, nil, func(ctx context.Context, args []string) error {
			id, err := parseProjectID("project", args[0])
			if err != nil {
				return err
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				if err := st.DeleteProject(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "deleted project %s\n", id.Hex())
				return nil
			})
		}),
	}
}

func newClustersCmd(e *env) *cobra.Command {
	var database string
	return adminGroup("clusters", "Create, list and delete clusters",
		`A cluster is a replica set or a sharded cluster of a project. Its checkpoints
are served under the project's id and the cluster's name (Atlas) or id
(Cloud Manager).`,
		`  checkpointd clusters create --project 5e2211c17a3e5a48f5497de3 --name Cluster0 --shards 3
  checkpointd clusters list --project 5e2211c17a3e5a48f5497de3
  checkpointd clusters delete --project 5e2211c17a3e5a48f5497de3 Cluster0`,
		&database,
		newClustersCreateCmd(e, &database), newClustersListCmd(e, &database), newClustersDeleteCmd(e, &database))
}

func newClustersCreateCmd(e *env, database *string) *cobra.Command {
	var project, name, config, version, kind string
	var shards int
	cmd := &cobra.Command{
		Use:   "create --project PROJECT_ID --name NAME",
		Short: "Create a cluster and print its id",
		Long: `Create a cluster named --name in project --project and print its id.

Without --shards it is a replica set (replica set NAME-shard-0); with
--shards N a sharded cluster with shards NAME-shard-0 to NAME-shard-N-1,
whose config servers are a replica set (NAME-config-0) or, for MongoDB 3.2
and earlier, three legacy mirrored hosts. --backup says what protects it:
legacy continuous backup, which takes the checkpoints this server serves;
Cloud Backup, whose clusters answer the checkpoint endpoints with
CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP; or none.`,
		Example: `  checkpointd clusters create --project "$PROJECT" --name Cluster0
  checkpointd clusters create --project "$PROJECT" --name Cluster1 --shards 3
  checkpointd clusters create --project "$PROJECT" --name Old --shards 2 --config-servers mirrored --mongodb-version 3.2.22`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = adminRun(e, []string{"project", "name"}, func(ctx context.Context, _ []string) error {
		spec := admin.ClusterSpec{Name: name, Shards: shards, MongoDBVersion: version}
		var err error
		if spec.ProjectID, err = parseProjectID("--project", project); err != nil {
			return err
		}
		if spec.Backup, err = admin.ParseBackupKind(kind); err != nil {
			return err
		}
		// A replica set has no config servers: the default applies to
		// sharded clusters only, a value given for a replica set is refused.
		if shards != 0 || cmd.Flags().Changed("config-servers") {
			if spec.ConfigServers, err = admin.ParseConfigServers(config); err != nil {
				return err
			}
		}
		return withStore(ctx, *database, false, func(st admin.Store) error {
			c, err := admin.CreateCluster(ctx, st, spec, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, c.ID.Hex())
			return nil
		})
	})
	f := cmd.Flags()
	f.StringVar(&project, "project", "", "id of the project (required)")
	f.StringVar(&name, "name", "", "cluster name: letters, digits and hyphens (required)")
	f.IntVar(&shards, "shards", 0, "number of shards; 0 makes a replica set")
	f.StringVar(&config, "config-servers", "csrs", "config servers of a sharded cluster: csrs (a replica set) or mirrored (legacy SCCC, MongoDB 3.2 and earlier)")
	f.StringVar(&version, "mongodb-version", admin.DefaultMongoDBVersion, "MongoDB version (MAJOR.MINOR.PATCH)")
	f.StringVar(&kind, "backup", "legacy", "backup of the cluster: legacy, cloud or none")
	return cmd
}

// clusterJSON is a cluster in list --output json.
type clusterJSON struct {
	ID             string             `json:"id"`
	ProjectID      string             `json:"projectId"`
	Name           string             `json:"name"`
	Type           string             `json:"type"`
	MongoDBVersion string             `json:"mongoDBVersion"`
	Backup         string             `json:"backup"`
	ReplicaSetName string             `json:"replicaSetName,omitempty"`
	Shards         []shardJSON        `json:"shards,omitempty"`
	ConfigServers  *configServersJSON `json:"configServers,omitempty"`
	Created        string             `json:"created"`
}

type shardJSON struct {
	Name           string `json:"name"`
	ReplicaSetName string `json:"replicaSetName"`
}

type configServersJSON struct {
	ReplicaSetName string   `json:"replicaSetName,omitempty"`
	HostIDs        []string `json:"hostIds,omitempty"`
}

func newClustersListCmd(e *env, database *string) *cobra.Command {
	var project, output string
	cmd := &cobra.Command{
		Use:   "list --project PROJECT_ID",
		Short: "List a project's clusters",
		Long:  `List the clusters of project --project, ordered by name.`,
		Example: `  checkpointd clusters list --project 5e2211c17a3e5a48f5497de3
  checkpointd clusters list --project 5e2211c17a3e5a48f5497de3 -o json`,
		Args: cobra.NoArgs,
		RunE: adminRun(e, []string{"project"}, func(ctx context.Context, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			id, err := parseProjectID("--project", project)
			if err != nil {
				return err
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				cs, err := admin.ListClusters(ctx, st, id)
				if err != nil {
					return err
				}
				items := make([]clusterJSON, len(cs))
				for i, c := range cs {
					items[i] = clusterView(c)
				}
				return printList(e.stdout, output, items,
					[]string{"ID", "NAME", "TYPE", "SHARDS", "CONFIG SERVERS", "VERSION", "BACKUP", "CREATED"},
					func(c clusterJSON) []string {
						shards, config := "", ""
						if c.ConfigServers != nil {
							shards = strconv.Itoa(len(c.Shards))
							config = "csrs"
							if len(c.ConfigServers.HostIDs) > 0 {
								config = "mirrored"
							}
						}
						return []string{c.ID, c.Name, c.Type, shards, config, c.MongoDBVersion, strings.ToLower(c.Backup), c.Created}
					})
			})
		}),
	}
	cmd.Flags().StringVar(&project, "project", "", "id of the project (required)")
	outputFlag(cmd, &output)
	return cmd
}

func clusterView(c backup.Cluster) clusterJSON {
	v := clusterJSON{
		ID: c.ID.Hex(), ProjectID: c.GroupID.Hex(), Name: c.Name, Type: string(c.Type),
		MongoDBVersion: c.MongoDBVersion, Backup: string(c.Backup), ReplicaSetName: c.ReplicaSetName,
		Created: timeText(c.Created),
	}
	if c.Type == backup.Sharded {
		for _, s := range c.Shards {
			v.Shards = append(v.Shards, shardJSON{Name: s.Name, ReplicaSetName: s.ReplicaSetName})
		}
		v.ConfigServers = &configServersJSON{ReplicaSetName: c.Config.ReplicaSetName, HostIDs: c.Config.HostIDs}
	}
	return v
}

func newClustersDeleteCmd(e *env, database *string) *cobra.Command {
	var project string
	cmd := &cobra.Command{
		Use:   "delete --project PROJECT_ID NAME",
		Short: "Delete a cluster and all its checkpoints",
		Long: `Delete the cluster named NAME in project --project, with all its
checkpoints. This cannot be undone.`,
		Example: `  checkpointd clusters delete --project 5e2211c17a3e5a48f5497de3 Cluster0`,
		Args:    cobra.ExactArgs(1),
		RunE: adminRun(e, []string{"project"}, func(ctx context.Context, args []string) error {
			id, err := parseProjectID("--project", project)
			if err != nil {
				return err
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				if err := st.DeleteCluster(ctx, backup.ClusterRef{GroupID: id, Name: args[0]}); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "deleted cluster %s of project %s\n", args[0], id.Hex())
				return nil
			})
		}),
	}
	cmd.Flags().StringVar(&project, "project", "", "id of the project (required)")
	return cmd
}
