package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
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
				o, err := admin.CreateOrganization(ctx, st, name, e.clock)
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
				p, err := admin.CreateProject(ctx, st, orgID, name, e.clock)
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
	return adminGroup("clusters", "Create, change, list and delete clusters",
		`A cluster is a replica set or a sharded cluster of a project. Its checkpoints
are served under the project's id and the cluster's name (Atlas) or id
(Cloud Manager).

A cluster's checkpoint schedule says who takes its checkpoints (--driver:
a backup agent reports them, or serve's engine takes them of a simulated
cluster), how often (--interval-min: 15, 30 or 60 minutes, sharded clusters
only, or off) and how long they are kept (--window-hours). A running server
follows a schedule created or changed here within its --engine-refresh.`,
		`  checkpointd clusters create --project 5e2211c17a3e5a48f5497de3 --name Cluster0 --shards 3 --driver simulated --interval-min 15
  checkpointd clusters update --project 5e2211c17a3e5a48f5497de3 Cluster0 --interval-min 30 --window-hours 48
  checkpointd clusters list --project 5e2211c17a3e5a48f5497de3
  checkpointd clusters delete --project 5e2211c17a3e5a48f5497de3 Cluster0`,
		&database,
		newClustersCreateCmd(e, &database), newClustersUpdateCmd(e, &database),
		newClustersListCmd(e, &database), newClustersDeleteCmd(e, &database))
}

func newClustersCreateCmd(e *env, database *string) *cobra.Command {
	var project, name, config, version, kind, driver, interval, objective string
	var shards, window int
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
CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP; or none.

The checkpoint schedule: --driver agent (the default) leaves the
checkpoints to a backup agent, which reports them to the server; --driver
simulated has serve's engine take them, of a simulated cluster, every
--interval-min minutes (15, 30 or 60; a sharded cluster under legacy
backup only, as on the service: a replica set is refused with
CANNOT_SET_CLUSTER_CHECKPOINT_INTERVAL_FOR_REPLICA_SET). Checkpoints older
than --window-hours (1 to 720) before the newest are pruned. --rpo-min
declares a recovery point objective: the most minutes the cluster may go
without a restorable checkpoint, which checkpointd rpo measures.`,
		Example: `  checkpointd clusters create --project "$PROJECT" --name Cluster0
  checkpointd clusters create --project "$PROJECT" --name Cluster1 --shards 3
  checkpointd clusters create --project "$PROJECT" --name Sim --shards 2 --driver simulated --interval-min 15 --window-hours 48
  checkpointd clusters create --project "$PROJECT" --name Old --shards 2 --config-servers mirrored --mongodb-version 3.2.22`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = adminRun(e, []string{"project", "name"}, func(ctx context.Context, _ []string) error {
		spec := backup.ClusterSpec{Name: name}
		spec.ShardCount, spec.MongoDBVersion = &shards, &version
		var err error
		if spec.ProjectID, err = parseProjectID("--project", project); err != nil {
			return err
		}
		k, err := admin.ParseBackupKind(kind)
		if err != nil {
			return err
		}
		spec.Backup = &k
		if err := parseSchedule(&spec.ClusterChange, driver, interval, window); err != nil {
			return err
		}
		o, err := admin.ParseObjective(objective)
		if err != nil {
			return withFlag("rpo-min", err)
		}
		spec.Objective = &o
		// A replica set has no config servers: the default applies to
		// sharded clusters only, a value given for a replica set is refused.
		if shards != 0 || cmd.Flags().Changed("config-servers") {
			c, err := backup.ParseConfigKind(config)
			if err != nil {
				return err
			}
			spec.ConfigKind = &c
		}
		return withStore(ctx, *database, false, func(st admin.Store) error {
			c, err := admin.Clusters{Store: st, Clock: e.clock}.CreateCluster(ctx, spec)
			if err != nil {
				return nameFlag(cmd, err)
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
	f.StringVar(&version, "mongodb-version", backup.DefaultMongoDBVersion, "MongoDB version (MAJOR.MINOR.PATCH)")
	f.StringVar(&kind, "backup", "legacy", "backup of the cluster: legacy, cloud or none")
	scheduleFlags(cmd, &driver, &interval, &window)
	f.StringVar(&objective, "rpo-min", "off", "recovery point objective in minutes (at least the interval), or off")
	return cmd
}

// scheduleFlags adds the flags of a checkpoint schedule.
func scheduleFlags(cmd *cobra.Command, driver, interval *string, window *int) {
	f := cmd.Flags()
	f.StringVar(driver, "driver", "agent", "who takes the checkpoints: agent (a backup agent reports them) or simulated (serve's engine takes them of a simulated cluster)")
	f.StringVar(interval, "interval-min", "off", "checkpoint interval in minutes: 15, 30 or 60 (a sharded cluster under legacy backup), or off")
	f.IntVar(window, "window-hours", int(backup.DefaultWindow/time.Hour), "point-in-time window in hours, 1 to 720: older checkpoints are pruned")
	scheduleCompletions(cmd)
}

// scheduleCompletions completes the values of --driver and --interval-min.
func scheduleCompletions(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("driver", cobra.FixedCompletions([]string{
		"agent\ta backup agent reports the checkpoints", "simulated\tserve's engine takes them"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("interval-min", cobra.FixedCompletions([]string{"15", "30", "60", "off"}, cobra.ShellCompDirectiveNoFileComp))
}

// parseSchedule reads the schedule flags of create, all of them with
// their defaults, into ch.
func parseSchedule(ch *backup.ClusterChange, driver, interval string, window int) error {
	d, err := admin.ParseDriver(driver)
	if err != nil {
		return withFlag("driver", err)
	}
	i, err := admin.ParseInterval(interval)
	if err != nil {
		return withFlag("interval-min", err)
	}
	// The domain refuses a count of hours no window has (Apply).
	w := backup.WindowHours(window)
	ch.Driver, ch.Interval, ch.Window = &d, &i, &w
	return nil
}

// withFlag prefixes the detail of an admin or domain error with the
// flag whose value it refuses.
func withFlag(flag string, err error) error {
	be := backup.ErrorOf(err)
	if be == nil {
		return fmt.Errorf("--%s: %w", flag, err)
	}
	named := *be
	named.Detail = "--" + flag + ": " + be.Detail
	return &named
}

// attributeFlags names the flags that set each attribute the domain's
// errors name (backup.Error.Attr), in the order they are blamed.
var attributeFlags = map[string][]string{
	"name":                         {"name"},
	"shards":                       {"shards"},
	"configServer":                 {"config-servers", "mongodb-version"},
	"mongoDBVersion":               {"mongodb-version"},
	"backup.kind":                  {"backup"},
	"clusterCheckpointIntervalMin": {"interval-min", "backup"},
	"pointInTimeWindowHours":       {"window-hours"},
	"recoveryPointObjectiveMin":    {"rpo-min", "interval-min"},
	"backup.driver":                {"driver"},
}

// nameFlag prefixes a domain error about an attribute with the flag that
// set it, when that flag was given; other errors pass
// unchanged.
func nameFlag(cmd *cobra.Command, err error) error {
	be := backup.ErrorOf(err)
	if be == nil || be.Kind != backup.Invalid {
		return err
	}
	for _, flag := range attributeFlags[be.Attr] {
		if cmd.Flags().Changed(flag) {
			return withFlag(flag, err)
		}
	}
	return err
}

func newClustersUpdateCmd(e *env, database *string) *cobra.Command {
	var project, name, config, version, kind, driver, interval, objective string
	var shards, window int
	cmd := &cobra.Command{
		Use:   "update --project PROJECT_ID NAME",
		Short: "Change a cluster's schedule, topology, version, backup or name",
		Long: `Change the cluster named NAME in project --project: only what the flags
given say changes, the rest stays. Its checkpoints stay as they are, and a
running server follows the new schedule within its --engine-refresh.

--interval-min off (or 0) turns checkpoints off; --rpo-min sets the recovery
point objective in minutes, off removes it. --shards resizes a sharded
cluster: its shards keep their names, new ones are named NAME-shard-I and
fewer shards removes the last ones. --config-servers converts a sharded
cluster's config servers. --name renames the cluster (its replica sets keep
their names). The type of a cluster cannot change: a replica set gets no
shards and a sharded cluster keeps at least one.`,
		Example: `  checkpointd clusters update --project "$PROJECT" Cluster0 --driver simulated --interval-min 15
  checkpointd clusters update --project "$PROJECT" Cluster0 --interval-min 60 --window-hours 168
  checkpointd clusters update --project "$PROJECT" Cluster0 --interval-min off
  checkpointd clusters update --project "$PROJECT" Cluster0 --rpo-min 60
  checkpointd clusters update --project "$PROJECT" Cluster0 --shards 4 --mongodb-version 4.4.29
  checkpointd clusters update --project "$PROJECT" Cluster0 --name Payments`,
		Args: cobra.ExactArgs(1),
	}
	cmd.RunE = adminRun(e, []string{"project"}, func(ctx context.Context, args []string) error {
		id, err := parseProjectID("--project", project)
		if err != nil {
			return err
		}
		f := cmd.Flags()
		var ch backup.ClusterChange
		if f.Changed("name") {
			ch.Name = &name
		}
		if f.Changed("shards") {
			ch.ShardCount = &shards
		}
		if f.Changed("config-servers") {
			c, err := backup.ParseConfigKind(config)
			if err != nil {
				return withFlag("config-servers", err)
			}
			ch.ConfigKind = &c
		}
		if f.Changed("mongodb-version") {
			ch.MongoDBVersion = &version
		}
		if f.Changed("backup") {
			k, err := admin.ParseBackupKind(kind)
			if err != nil {
				return withFlag("backup", err)
			}
			ch.Backup = &k
		}
		if f.Changed("driver") {
			d, err := admin.ParseDriver(driver)
			if err != nil {
				return withFlag("driver", err)
			}
			ch.Driver = &d
		}
		if f.Changed("interval-min") {
			d, err := admin.ParseInterval(interval)
			if err != nil {
				return withFlag("interval-min", err)
			}
			ch.Interval = &d
		}
		if f.Changed("window-hours") {
			w := backup.WindowHours(window)
			ch.Window = &w
		}
		if f.Changed("rpo-min") {
			o, err := admin.ParseObjective(objective)
			if err != nil {
				return withFlag("rpo-min", err)
			}
			ch.Objective = &o
		}
		if ch.IsZero() {
			return errors.New("nothing to change: give at least one of --driver, --interval-min, --window-hours, --rpo-min, --mongodb-version, --backup, --shards, --config-servers or --name")
		}
		return withStore(ctx, *database, false, func(st admin.Store) error {
			c, err := admin.Clusters{Store: st, Clock: e.clock}.UpdateCluster(ctx, backup.ClusterRef{GroupID: id, Name: args[0]}, ch)
			if err != nil {
				return nameFlag(cmd, err)
			}
			v := httpapi.NewAdminCluster(&c)
			renamed := ""
			if c.Name != args[0] {
				renamed = " (was " + args[0] + ")"
			}
			rpo := ""
			if v.Backup.RecoveryPointObjectiveMin != nil {
				rpo = ", rpo " + objectiveText(v)
			}
			fmt.Fprintf(e.stdout, "updated cluster %s%s of project %s: driver %s, interval %s, window %s%s\n",
				c.Name, renamed, id.Hex(), driverText(v), intervalText(v), windowText(v), rpo)
			return nil
		})
	})
	f := cmd.Flags()
	f.StringVar(&project, "project", "", "id of the project (required)")
	f.StringVar(&name, "name", "", "new name of the cluster")
	f.IntVar(&shards, "shards", 0, "number of shards of a sharded cluster (1 or more)")
	f.StringVar(&config, "config-servers", "", "config servers of a sharded cluster: csrs (a replica set) or mirrored (legacy SCCC, MongoDB 3.2 and earlier)")
	f.StringVar(&version, "mongodb-version", "", "MongoDB version (MAJOR.MINOR.PATCH)")
	f.StringVar(&kind, "backup", "", "backup of the cluster: legacy, cloud or none")
	f.StringVar(&driver, "driver", "", "who takes the checkpoints: agent (a backup agent reports them) or simulated (serve's engine takes them of a simulated cluster)")
	f.StringVar(&interval, "interval-min", "", "checkpoint interval in minutes: 15, 30 or 60 (a sharded cluster under legacy backup), or off")
	f.IntVar(&window, "window-hours", 0, "point-in-time window in hours, 1 to 720: older checkpoints are pruned")
	f.StringVar(&objective, "rpo-min", "", "recovery point objective in minutes (at least the interval), or off")
	scheduleCompletions(cmd)
	return cmd
}

func driverText(c httpapi.AdminCluster) string { return strings.ToLower(c.Backup.Driver) }

// intervalText is the checkpoint interval in minutes ("15m"), or off.
func intervalText(c httpapi.AdminCluster) string {
	if c.Backup.ClusterCheckpointIntervalMin == nil {
		return "off"
	}
	return strconv.Itoa(*c.Backup.ClusterCheckpointIntervalMin) + "m"
}

// objectiveText is the recovery point objective in minutes ("60m"), or
// off.
func objectiveText(c httpapi.AdminCluster) string {
	if c.Backup.RecoveryPointObjectiveMin == nil {
		return "off"
	}
	return strconv.Itoa(*c.Backup.RecoveryPointObjectiveMin) + "m"
}

func windowText(c httpapi.AdminCluster) string {
	return strconv.Itoa(c.Backup.PointInTimeWindowHours) + "h"
}

func newClustersListCmd(e *env, database *string) *cobra.Command {
	var project, output string
	cmd := &cobra.Command{
		Use:   "list --project PROJECT_ID",
		Short: "List a project's clusters",
		Long: `List the clusters of project --project, ordered by name, with their
topology, backup and checkpoint schedule: DRIVER (agent or simulated),
INTERVAL (every 15m, 30m or 60m, or off), WINDOW (how long checkpoints
are kept) and RPO (the recovery point objective, or off). With --output json a cluster is what the administration API
returns for it (without links): groupId, clusterType, configServer, and
backup as an object of kind, driver, clusterCheckpointIntervalMin (absent
when off), pointInTimeWindowHours and recoveryPointObjectiveMin (absent
when off).`,
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
				items := make([]httpapi.AdminCluster, len(cs))
				for i := range cs {
					items[i] = httpapi.NewAdminCluster(&cs[i])
				}
				return printList(e.stdout, output, items,
					[]string{"ID", "NAME", "TYPE", "SHARDS", "CONFIG SERVERS", "VERSION", "BACKUP", "DRIVER", "INTERVAL", "WINDOW", "RPO", "CREATED"},
					func(c httpapi.AdminCluster) []string {
						shards, config := "", ""
						if c.ConfigServer != nil {
							shards = strconv.Itoa(len(c.Shards))
							config = "csrs"
							if len(c.ConfigServer.HostIDs) > 0 {
								config = "mirrored"
							}
						}
						return []string{c.ID, c.Name, c.ClusterType, shards, config, c.MongoDBVersion, strings.ToLower(c.Backup.Kind),
							driverText(c), intervalText(c), windowText(c), objectiveText(c), c.Created}
					})
			})
		}),
	}
	cmd.Flags().StringVar(&project, "project", "", "id of the project (required)")
	outputFlag(cmd, &output)
	return cmd
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
