package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/client"
)

// The schedule commands read and change a cluster's legacy snapshot
// schedule over HTTP, on the service's own paths: its checkpoint interval
// and window are what the server's engine and the backup agents follow.

func newScheduleCmd(e *env) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Read and change a cluster's snapshot schedule (its checkpoint interval) over the API",
		Long: `Read and change the legacy snapshot schedule of a cluster through a server
of the API (checkpointd, Atlas or Cloud Manager): the checkpoint interval
(clusterCheckpointIntervalMin) turns checkpoints on or off, and with the
point-in-time window is the schedule checkpointd's engine and backup agents
follow from their next slot.
` + clientHelp,
		Example: `  checkpointd schedule get --profile demo --cluster Cluster0
  checkpointd schedule set --profile demo --cluster Cluster0 --interval-min 30
  checkpointd schedule set --profile demo --cluster Cluster0 --interval-min off`,
		Args:                       cobra.ArbitraryArgs,
		DisableFlagsInUseLine:      true,
		SuggestionsMinimumDistance: 2,
		RunE:                       groupRunE,
	}
	addClientFlags(e, cmd, &cf)
	cmd.AddCommand(newScheduleGetCmd(e, &cf), newScheduleSetCmd(e, &cf))
	return cmd
}

func newScheduleGetCmd(e *env, cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "get",
		Short:   "Show a cluster's snapshot schedule",
		Long:    "Show a cluster's snapshot schedule: the checkpoint interval (off when\ncheckpoints are off), the point-in-time window, and the snapshot settings.\n" + clientHelp,
		Example: `  checkpointd schedule get --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --output json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.resolve(e, cmd)
			if err != nil {
				return err
			}
			s, raw, err := c.GetSchedule(cmd.Context(), cf.project, cf.cluster)
			if err != nil {
				return err
			}
			return printSchedule(e.stdout, cf.output, s, raw)
		},
	}
}

// scheduleSetFlags are the settings schedule set may change, by flag and
// JSON field.
var scheduleSetFlags = []struct{ flag, field, usage string }{
	{"window-hours", "pointInTimeWindowHours", "point-in-time window in hours (Cloud Manager lets no client change it)"},
	{"snapshot-interval-hours", "snapshotIntervalHours", "hours between snapshots: 6, 8, 12 or 24"},
	{"snapshot-retention-days", "snapshotRetentionDays", "days snapshots are kept: 2 to 5"},
	{"daily-retention-days", "dailySnapshotRetentionDays", "days daily snapshots are kept (0: none)"},
	{"weekly-retention-weeks", "weeklySnapshotRetentionWeeks", "weeks weekly snapshots are kept (0: none)"},
	{"monthly-retention-months", "monthlySnapshotRetentionMonths", "months monthly snapshots are kept (0: none)"},
}

func newScheduleSetCmd(e *env, cf *clientFlags) *cobra.Command {
	var interval string
	values := make([]int, len(scheduleSetFlags))
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Change a cluster's snapshot schedule: only the settings given",
		Long: `Change the settings given of a cluster's snapshot schedule, and show it as
changed. --interval-min 15, 30 or 60 turns checkpoints on (sharded
clusters only), off turns them off; the server refuses anything else with
the service's error code.
` + clientHelp,
		Example: `  checkpointd schedule set --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --interval-min 60
  checkpointd schedule set --api cloud-manager --project 5e2211c17a3e5a48f5497de3 --cluster 6b8cd61180eef547110159d9 --interval-min off`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.resolve(e, cmd)
			if err != nil {
				return err
			}
			change := map[string]int{}
			if cmd.Flags().Changed("interval-min") {
				m, err := parseIntervalMin(interval)
				if err != nil {
					return err
				}
				change["clusterCheckpointIntervalMin"] = m
			}
			for i, f := range scheduleSetFlags {
				if cmd.Flags().Changed(f.flag) {
					change[f.field] = values[i]
				}
			}
			if len(change) == 0 {
				return errors.New("nothing to change: give --interval-min or another setting (see --help)")
			}
			s, raw, err := c.UpdateSchedule(cmd.Context(), cf.project, cf.cluster, change)
			if err != nil {
				return err
			}
			return printSchedule(e.stdout, cf.output, s, raw)
		},
	}
	f := cmd.Flags()
	f.StringVar(&interval, "interval-min", "", "minutes between checkpoints: 15, 30 or 60, or off")
	for i, sf := range scheduleSetFlags {
		f.IntVar(&values[i], sf.flag, 0, sf.usage)
	}
	_ = cmd.RegisterFlagCompletionFunc("interval-min", cobra.FixedCompletions([]string{"15", "30", "60", "off"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// parseIntervalMin reads --interval-min: a number of minutes (the server
// says which it accepts), or off for 0.
func parseIntervalMin(s string) (int, error) {
	if strings.EqualFold(s, "off") {
		return 0, nil
	}
	m, err := strconv.Atoi(strings.TrimSuffix(s, "m"))
	if err != nil {
		return 0, fmt.Errorf("--interval-min %q: want 15, 30, 60 or off", s)
	}
	return m, nil
}

// printSchedule writes a schedule as a list of settings, or its JSON as
// the server sent it.
func printSchedule(w io.Writer, output string, s *client.Schedule, raw []byte) error {
	if output == "json" {
		_, err := fmt.Fprintf(w, "%s\n", client.Pretty(raw))
		return err
	}
	interval := "off"
	if s.ClusterCheckpointIntervalMin != nil {
		interval = strconv.Itoa(*s.ClusterCheckpointIntervalMin) + "m"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := [][2]string{
		{"CLUSTER ID", s.ClusterID}, {"PROJECT ID", s.GroupID},
		{"CHECKPOINT INTERVAL", interval},
		{"POINT-IN-TIME WINDOW", strconv.Itoa(s.PointInTimeWindowHours) + "h"},
		{"SNAPSHOT INTERVAL", strconv.Itoa(s.SnapshotIntervalHours) + "h"},
		{"SNAPSHOT RETENTION", strconv.Itoa(s.SnapshotRetentionDays) + "d"},
		{"DAILY RETENTION", strconv.Itoa(s.DailySnapshotRetentionDays) + "d"},
		{"WEEKLY RETENTION", strconv.Itoa(s.WeeklySnapshotRetentionWeeks) + "w"},
		{"MONTHLY RETENTION", strconv.Itoa(s.MonthlySnapshotRetentionMonths) + "mo"},
	}
	if s.FullIncrementalDayOfWeek != "" {
		rows = append(rows, [2]string{"FULL INCREMENTAL DAY", s.FullIncrementalDayOfWeek})
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], cell(r[1]))
	}
	return tw.Flush()
}
