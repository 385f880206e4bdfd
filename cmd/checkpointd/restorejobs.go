package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/client"
)

// The restore commands: restore a cluster to a checkpoint through any
// generation of the API (restore-jobs create|list|get), and read checkpointd's
// plan for restoring a checkpoint by hand (checkpoints restore-plan).

func newRestoreJobsCmd(e *env) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "restore-jobs",
		Short: "Restore a cluster to a checkpoint, and follow its restore jobs, over the API",
		Long: `Restore a cluster to one of its checkpoints through the API's restore jobs:
one job per shard and config server, sharing a batch id. On checkpointd, the
jobs of a simulated cluster finish within minutes; an agent cluster's wait
for its agent (checkpointd agent) to carry them out and report them.
` + clientHelp,
		Example: `  checkpointd restore-jobs create --profile demo --cluster Cluster0 --checkpoint 6b0187c380eef53de5000002
  checkpointd restore-jobs list --profile demo --cluster Cluster0 --batch 6b0438d05e5702e001000002
  checkpointd restore-jobs get --profile demo --cluster Cluster0 --id 6b0438d05e5702e001000003`,
		Args:                       cobra.ArbitraryArgs,
		DisableFlagsInUseLine:      true,
		SuggestionsMinimumDistance: 2,
		RunE:                       groupRunE,
	}
	addClientFlags(e, cmd, &cf)
	cmd.AddCommand(newRestoreJobsCreateCmd(e, &cf), newRestoreJobsListCmd(e, &cf), newRestoreJobsGetCmd(e, &cf))
	return cmd
}

func newRestoreJobsCreateCmd(e *env, cf *clientFlags) *cobra.Command {
	var checkpoint, targetProject, targetCluster string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Restore a cluster to one of its checkpoints",
		Long: `Restore a cluster to one of its checkpoints (an automated restore into
--target-cluster, by default the cluster itself). Prints the batch's jobs:
each restores one shard or config server up to the oplog timestamp shown.
` + clientHelp,
		Example: `  checkpointd restore-jobs create --profile demo --cluster Cluster0 --checkpoint 6b0187c380eef53de5000002`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.resolve(e, cmd)
			if err != nil {
				return err
			}
			if checkpoint == "" {
				return errors.New("--checkpoint is required: a checkpoint's id, as checkpoints list prints it")
			}
			target := client.RestoreTarget{Project: targetProject, Cluster: targetCluster}
			if target.Project == "" {
				target.Project = cf.project
			}
			if target.Cluster == "" {
				target.Cluster = cf.cluster
			}
			jobs, err := c.CreateRestoreJob(cmd.Context(), cf.project, cf.cluster, checkpoint, target)
			if err != nil {
				return err
			}
			return printRestoreJobs(e.stdout, cf.output, jobs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&checkpoint, "checkpoint", "", "the id of the checkpoint to restore to")
	f.StringVar(&targetProject, "target-project", "", "the project of the cluster to restore into (default --project)")
	f.StringVar(&targetCluster, "target-cluster", "", "the cluster to restore into, its name (with --api cloud-manager: its id; default --cluster)")
	return cmd
}

func newRestoreJobsListCmd(e *env, cf *clientFlags) *cobra.Command {
	var batch string
	var page, perPage int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a cluster's restore jobs, oldest first",
		Long: `List a cluster's restore jobs in the order they were created (a batch's
config server job first), only one batch's with --batch.
` + clientHelp,
		Example: `  checkpointd restore-jobs list --profile demo --cluster Cluster0 --batch 6b0438d05e5702e001000002`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.resolve(e, cmd)
			if err != nil {
				return err
			}
			if page < 0 || perPage < 0 || perPage > 500 {
				return fmt.Errorf("--page %d, --items-per-page %d: pages start at 1 and hold 1 to 500 jobs", page, perPage)
			}
			jobs, err := c.ListRestoreJobs(cmd.Context(), cf.project, cf.cluster, batch, client.ListOptions{PageNum: page, ItemsPerPage: perPage})
			if err != nil {
				return err
			}
			return printRestoreJobs(e.stdout, cf.output, jobs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&batch, "batch", "", "only the jobs of this batch id")
	f.IntVar(&page, "page", 0, "page number, from 1 (the server's default: 1)")
	f.IntVar(&perPage, "items-per-page", 0, "jobs a page, 1 to 500 (the server's default: 100)")
	return cmd
}

func newRestoreJobsGetCmd(e *env, cf *clientFlags) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:     "get",
		Short:   "Show one restore job",
		Long:    "Show one restore job: its batch, its status and the oplog timestamp its part is restored up to.\n" + clientHelp,
		Example: `  checkpointd restore-jobs get --profile demo --cluster Cluster0 --id 6b0438d05e5702e001000003`,
		Args:    cobra.NoArgs,
		RunE: runGet(e, cf, &id, "a restore job's id, as restore-jobs list prints it",
			func(ctx context.Context, c *client.Client, id string) (json.RawMessage, func(io.Writer) error, error) {
				j, raw, err := c.GetRestoreJob(ctx, cf.project, cf.cluster, id)
				return raw, func(w io.Writer) error { return printRestoreJobTable(w, []client.RestoreJob{*j}) }, err
			}),
	}
	cmd.Flags().StringVar(&id, "id", "", "the restore job's id")
	return cmd
}

// printRestoreJobs prints a page of jobs as a table, or the server's JSON.
func printRestoreJobs(w io.Writer, output string, jobs *client.RestoreJobs) error {
	if output == "json" {
		_, err := fmt.Fprintf(w, "%s\n", client.Pretty(jobs.Body))
		return err
	}
	return printRestoreJobTable(w, jobs.Results)
}

func printRestoreJobTable(w io.Writer, jobs []client.RestoreJob) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tBATCH\tSTATUS\tCREATED\tRESTORED UP TO (OPLOG)")
	for _, j := range jobs {
		fmt.Fprintln(tw, strings.Join([]string{cell(j.ID), cell(j.BatchID), cell(j.StatusName), clientTime(j.Created),
			fmt.Sprintf("%s inc %d", clientTime(j.Timestamp.Date), j.Timestamp.Increment)}, "\t"))
	}
	return tw.Flush()
}

func newRestorePlanCmd(e *env, cf *clientFlags) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "restore-plan",
		Short: "How to restore a checkpoint by hand (checkpointd only)",
		Long: `Show how to restore a checkpoint by hand: for each part, the config server
first, the oplog position its replay stops at, as mongorestore --oplogReplay
--oplogLimit seconds:increment takes it, and warnings when the checkpoint
cannot be restored, saying why. Read from checkpointd's administration API,
which names the cluster by its name whatever --api says.
` + clientHelp,
		Example: `  checkpointd checkpoints restore-plan --profile demo --cluster Cluster0 --id 6b0187c380eef53de5000002`,
		Args:    cobra.NoArgs,
		RunE: runGet(e, cf, &id, "a checkpoint's id, as checkpoints list prints it",
			func(ctx context.Context, c *client.Client, id string) (json.RawMessage, func(io.Writer) error, error) {
				p, raw, err := c.GetRestorePlan(ctx, cf.project, cf.cluster, id)
				return raw, func(w io.Writer) error { return printRestorePlan(w, p) }, err
			}),
	}
	cmd.Flags().StringVar(&id, "id", "", "the checkpoint's id")
	return cmd
}

// printRestorePlan writes a plan: whether it can be followed, then one
// row per part in order, then each part's command.
func printRestorePlan(w io.Writer, p *client.RestorePlan) error {
	fmt.Fprintf(w, "Checkpoint %s of %s at %s: restorable: %s\n", p.CheckpointID, p.ClusterName, p.Timestamp, yesNo(p.Restorable))
	for _, warn := range p.Warnings {
		fmt.Fprintln(w, "WARNING:", warn)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ORDER\tPART\tSHARD\tREPLICA SET / HOST\tTOKEN\t--oplogLimit")
	for _, st := range p.Steps {
		set := st.Part.ReplicaSetName
		if set == "" {
			set = st.Part.HostID
		}
		tok := "not discovered"
		if st.TokenTimestamp != nil {
			tok = fmt.Sprintf("%s inc %d", clientTime(st.TokenTimestamp.Date), st.TokenTimestamp.Increment)
		}
		fmt.Fprintln(tw, strings.Join([]string{fmt.Sprint(st.Order), cell(st.Part.TypeName), cell(st.Part.ShardName), cell(set), tok, cell(st.OplogLimit)}, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, st := range p.Steps {
		if st.Command != "" {
			fmt.Fprintf(w, "%d. %s\n", st.Order, st.Command)
		}
	}
	return nil
}
