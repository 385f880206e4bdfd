package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/store/open"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

func newRestoreCmd(e *env) *cobra.Command {
	var database, input string
	cmd := &cobra.Command{
		Use:   "restore --input FILE",
		Short: "Replace the SQLite database with a backup",
		Long: `Replace the SQLite database in --database (created if missing) with the
backup in --input, made by checkpointd backup. The backup is checked
(PRAGMA integrity_check, the rows of every table counted) before anything
is written, and the database after: the command reports success only when
it holds what the backup holds.

Stop every server and command using the database first: the restore
refuses a database any process has open, since a server would go on
serving what it had read before. Start them again afterwards.

A PostgreSQL database is restored with pg_restore (see the README).
Every flag can also be set with an environment variable named CHECKPOINTD_
and the flag's name in upper case.`,
		Example: `  checkpointd restore --database /var/lib/checkpointd/checkpointd.db --input /backups/checkpointd-2026-12-01.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(e, cmd.Flags()); err != nil {
				return err
			}
			if input == "" {
				return fmt.Errorf("--input is required")
			}
			if open.IsPostgres(database) {
				return fmt.Errorf("%s: %s", open.Redact(database), pgDumpHint)
			}
			c, err := sqlite.Restore(cmd.Context(), input, database)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "restored %s from %s: %v; integrity check ok\n", database, input, c)
			return nil
		},
	}
	cmd.Flags().StringVar(&database, "database", "checkpointd.db", "SQLite database file to replace: the one serve uses")
	cmd.Flags().StringVarP(&input, "input", "i", "", "the backup `FILE` to restore, made by checkpointd backup")
	return cmd
}
