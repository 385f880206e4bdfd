package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// The slots commands read the record of every scheduled checkpoint slot
// from the store, with the operations of internal/admin the
// administration API's slot routes call.

func newSlotsCmd(e *env) *cobra.Command {
	var database string
	return adminGroup("slots", "Explain every checkpoint slot: what became of it and why",
		`Every scheduled checkpoint slot of a cluster is recorded with its outcome:
TAKEN (a restorable checkpoint), NOT_RESTORABLE (a checkpoint a restore
cannot target), SKIPPED (the balancer would not stop: no checkpoint, by
design), FAILED (a step failed or was abandoned) or MISSED (the slot passed
and nothing ran it: no agent reported it, no server took it). Anything but
a clean TAKEN has a reason code, the part at fault when one is, and a
sentence. Records are kept for the cluster's point-in-time window, pruned
with its checkpoints.`,
		`  checkpointd slots list --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0
  checkpointd slots list --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --outcome skipped,not_restorable -o json
  checkpointd slots get --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --checkpoint 6b04276c80eef53de50000bf`,
		&database,
		newSlotsListCmd(e, &database), newSlotsGetCmd(e, &database))
}

func slotRow(s httpapi.AdminSlot) []string {
	return []string{s.Slot, s.Outcome, s.CheckpointID, s.Reason, s.Part, s.Detail, s.Source}
}

var slotHeader = []string{"SLOT", "OUTCOME", "CHECKPOINT", "REASON", "PART", "DETAIL", "SOURCE"}

func newSlotsListCmd(e *env, database *string) *cobra.Command {
	var project, cluster, from, to, output string
	var outcomes []string
	var pageNum, perPage int
	cmd := &cobra.Command{
		Use:   "list --project PROJECT_ID --cluster NAME",
		Short: "List a cluster's slot records, newest first",
		Long: `List the slot records of cluster --cluster of project --project, newest
first: the slot's time, its OUTCOME, the CHECKPOINT it stored (if any),
and for anything but a clean TAKEN the REASON code, the PART at fault and
the DETAIL sentence; SOURCE says who recorded it (ENGINE, AGENT, or SWEEP
for a missed slot). --outcome keeps only the outcomes given (repeat it or
separate them by commas, any case); --from (inclusive) and --to
(exclusive) bound the slots' times (RFC 3339, e.g. 2026-01-05T10:00:00Z).
--page and --items-per-page page the list as the API does. With --output
json a record is what the administration API returns for it (without
links), steps included.`,
		Example: `  checkpointd slots list --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --outcome skipped --outcome not_restorable
  checkpointd slots list --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --from 2026-01-05T00:00:00Z --to 2026-01-06T00:00:00Z -o json`,
		Args: cobra.NoArgs,
		RunE: adminRun(e, []string{"project", "cluster"}, func(ctx context.Context, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			id, err := parseProjectID("--project", project)
			if err != nil {
				return err
			}
			f, err := backup.ParseSlotFilter(outcomes, from, to)
			if err != nil {
				return slotFlagError(err)
			}
			if pageNum < 1 {
				return fmt.Errorf("--page: %d is not a page number (1 or more)", pageNum)
			}
			if perPage < 1 || perPage > httpapi.MaxItemsPerPage {
				return fmt.Errorf("--items-per-page: %d is not from 1 to %d", perPage, httpapi.MaxItemsPerPage)
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				p, err := admin.Clusters{Store: st, Clock: e.clock}.ListSlots(ctx, backup.ClusterRef{GroupID: id, Name: cluster}, f,
					backup.PageRequest{Num: pageNum, Size: perPage})
				if err != nil {
					return err
				}
				items := make([]httpapi.AdminSlot, len(p.Items))
				for i := range p.Items {
					items[i] = httpapi.NewAdminSlot(&p.Items[i])
				}
				return printList(e.stdout, output, items, slotHeader, slotRow)
			})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&project, "project", "", "id of the project (required)")
	fl.StringVar(&cluster, "cluster", "", "name of the cluster (required)")
	fl.StringSliceVar(&outcomes, "outcome", nil, "only these outcomes: taken, not_restorable, skipped, failed, missed (repeat or separate by commas)")
	fl.StringVar(&from, "from", "", "only slots at or after this time (RFC 3339)")
	fl.StringVar(&to, "to", "", "only slots before this time (RFC 3339)")
	fl.IntVar(&pageNum, "page", 1, "page number, from 1")
	fl.IntVar(&perPage, "items-per-page", httpapi.DefaultItemsPerPage, "records per page, 1 to 500")
	outputFlag(cmd, &output)
	_ = cmd.RegisterFlagCompletionFunc("outcome", cobra.FixedCompletions([]string{"taken", "not_restorable", "skipped", "failed", "missed"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newSlotsGetCmd(e *env, database *string) *cobra.Command {
	var project, cluster, checkpoint, output string
	cmd := &cobra.Command{
		Use:   "get --project PROJECT_ID --cluster NAME --checkpoint CHECKPOINT_ID",
		Short: "Show the slot of a checkpoint: its steps and, if it is not restorable, why",
		Long: `Show the record of the slot that stored checkpoint --checkpoint of cluster
--cluster: its outcome, for a checkpoint that is not restorable the
REASON, PART and DETAIL of why, and its steps with their times (balancer
stop requested and stopped, each part's token written and discovered,
balancer restarted, reported). A checkpoint reported without a record is
SLOT_NOT_FOUND. With --output json the record is what the administration
API returns for it (without links).`,
		Example: `  checkpointd slots get --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --checkpoint 6b04276c80eef53de50000bf -o json`,
		Args:    cobra.NoArgs,
		RunE: adminRun(e, []string{"project", "cluster", "checkpoint"}, func(ctx context.Context, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			id, err := parseProjectID("--project", project)
			if err != nil {
				return err
			}
			cp, ok := backup.ParseObjectID(checkpoint)
			if !ok {
				return fmt.Errorf("--checkpoint: %q is not a checkpoint id (24 hexadecimal digits)", checkpoint)
			}
			return withStore(ctx, *database, false, func(st admin.Store) error {
				s, err := admin.Clusters{Store: st, Clock: e.clock}.CheckpointSlot(ctx, backup.ClusterRef{GroupID: id, Name: cluster}, cp)
				if err != nil {
					return err
				}
				v := httpapi.NewAdminSlot(&s)
				if output == "json" {
					return printJSON(e.stdout, v)
				}
				if err := printList(e.stdout, output, []httpapi.AdminSlot{v}, slotHeader, slotRow); err != nil {
					return err
				}
				fmt.Fprintln(e.stdout)
				return printList(e.stdout, output, v.Steps, []string{"STEP", "PART", "AT"},
					func(st httpapi.AdminSlotStep) []string { return []string{st.Step, st.Part, st.At} })
			})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&project, "project", "", "id of the project (required)")
	fl.StringVar(&cluster, "cluster", "", "name of the cluster (required)")
	fl.StringVar(&checkpoint, "checkpoint", "", "id of the checkpoint (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table (the record, then its steps) or json (an object)")
	return cmd
}

// slotFlagError names the flag of a filter the parser refused: the
// parameter it names is the flag's name.
func slotFlagError(err error) error {
	be := backup.ErrorOf(err)
	if be == nil || len(be.Params) == 0 {
		return err
	}
	name, _ := be.Params[0].(string)
	_, why, _ := strings.Cut(be.Detail, "specified: ")
	return flagErrorf(name, "%s", why)
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
