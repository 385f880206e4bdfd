package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// newRPOCmd measures a cluster's recovery point objective in the store,
// with the operation the administration API's .../rpo route runs.
func newRPOCmd(e *env) *cobra.Command {
	var database, project, from, to, output string
	cmd := &cobra.Command{
		Use:   "rpo --project PROJECT_ID NAME",
		Short: "Measure a cluster's restore points against its recovery point objective",
		Long: `Measure how the cluster named NAME in project --project kept its restore
points over a range (--from and --to, RFC 3339 times; the week before now
by default): its exposure now (the age of its newest restorable
checkpoint), the worst gap between consecutive restorable checkpoints (the
gaps across the range's edges whole: from the last one before --from, and
from the last one to --to or now), the share of its scheduled slots that
left a restorable checkpoint, and, when the cluster declares an objective
(clusters update --rpo-min), the stretches when it was not met.

The figures are those of GET /api/checkpointd/v1/groups/{groupId}/clusters/
{clusterName}/rpo; --output json prints that route's body (without links).
Checkpoints older than the cluster's point-in-time window have been pruned:
a range reaching further back measures the gap retention left.
` + adminHelp,
		Example: `  checkpointd rpo --project 5e2211c17a3e5a48f5497de3 Cluster0
  checkpointd rpo --project 5e2211c17a3e5a48f5497de3 Cluster0 --from 2026-03-01T00:00:00Z --to 2026-03-02T00:00:00Z -o json`,
		Args: cobra.ExactArgs(1),
	}
	cmd.RunE = adminRun(e, []string{"project"}, func(ctx context.Context, args []string) error {
		if err := checkOutput(output); err != nil {
			return err
		}
		id, err := parseProjectID("--project", project)
		if err != nil {
			return err
		}
		return withStore(ctx, database, false, func(st admin.Store) error {
			c, r, err := admin.Clusters{Store: st, Clock: e.clock}.Objective(ctx, backup.ClusterRef{GroupID: id, Name: args[0]}, from, to)
			if be := backup.ErrorOf(err); be != nil && (be.Attr == "from" || be.Attr == "to") {
				return withFlag(be.Attr, err)
			}
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(httpapi.NewAdminObjective(&c, &r))
			}
			printObjective(e.stdout, &c, &r)
			return nil
		})
	})
	f := cmd.Flags()
	f.StringVar(&database, "database", "checkpointd.db", "SQLite database file, or a postgres:// URL: the one serve uses")
	f.StringVar(&project, "project", "", "id of the project (required)")
	f.StringVar(&from, "from", "", "start of the range, RFC 3339 (default: a week before --to)")
	f.StringVar(&to, "to", "", "end of the range, RFC 3339 (default: now)")
	f.StringVarP(&output, "output", "o", "table", "output format: table (lines of text) or json (the API's body)")
	return cmd
}

// printObjective writes a report as lines of text.
func printObjective(w io.Writer, c *backup.Cluster, r *backup.ObjectiveReport) {
	fmt.Fprintf(w, "cluster %s of project %s, %s to %s\n", c.Name, c.GroupID.Hex(), timeText(r.From), timeText(r.To))
	switch {
	case r.Objective == 0:
		fmt.Fprintln(w, "objective:         none (clusters update --rpo-min sets one)")
	case r.Met():
		fmt.Fprintf(w, "objective:         %s, met now\n", r.Objective)
	default:
		fmt.Fprintf(w, "objective:         %s, NOT met now\n", r.Objective)
	}
	if r.Newest.IsZero() {
		fmt.Fprintln(w, "newest restorable: none")
	} else {
		fmt.Fprintf(w, "newest restorable: %s (exposure %s)\n", timeText(r.Newest), r.Exposure.Truncate(time.Second))
	}
	if r.WorstGap.Length() > 0 {
		fmt.Fprintf(w, "worst gap:         %s, %s to %s\n", r.WorstGap.Length(), timeText(r.WorstGap.Start), timeText(r.WorstGap.End))
	}
	if ratio, ok := r.SlotRatio(); ok {
		fmt.Fprintf(w, "slots:             %d of %d restorable (%s%%)\n", r.Slots.Restorable, r.Slots.Total, strconv.FormatFloat(100*ratio, 'f', 1, 64))
	} else {
		fmt.Fprintln(w, "slots:             none due (no checkpoint interval)")
	}
	if r.Objective == 0 {
		return
	}
	var total time.Duration
	for _, s := range r.Missed {
		total += s.Length()
	}
	fmt.Fprintf(w, "missed:            %d stretches, %s in all\n", len(r.Missed), total)
	for _, s := range r.Missed {
		fmt.Fprintf(w, "  %s to %s (%s)\n", timeText(s.Start), timeText(s.End), s.Length())
	}
}
