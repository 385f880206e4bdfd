package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/store/open"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// pgDumpHint is the answer of backup and restore for a PostgreSQL
// database, whose own tools do it better.
const pgDumpHint = "back up a PostgreSQL database with pg_dump and restore it with pg_restore (see the README, Backing up checkpointd)"

func newBackupCmd(e *env) *cobra.Command {
	var database, output string
	cmd := &cobra.Command{
		Use:   "backup --output FILE",
		Short: "Copy the SQLite database, consistently, while servers run",
		Long: `Copy the SQLite database in --database to --output, a new file, while
servers and commands go on using it: the copy is the database as one read
sees it (VACUUM INTO), holding every checkpoint stored before the backup
began. It is checked (PRAGMA integrity_check, and the rows of every table
counted) before the command reports success; a failed backup leaves no
file. Put it back with checkpointd restore.

Do not copy the database file with cp while servers run: most of the data
is in its write-ahead log (the -wal file) until SQLite moves it into the
file, so the copy may hold none of it, or be damaged.

A PostgreSQL database is backed up with pg_dump (see the README).
Every flag can also be set with an environment variable named CHECKPOINTD_
and the flag's name in upper case.`,
		Example: `  checkpointd backup --database /var/lib/checkpointd/checkpointd.db --output /backups/checkpointd-$(date +%F).db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(e, cmd.Flags()); err != nil {
				return err
			}
			if output == "" {
				return fmt.Errorf("--output is required")
			}
			if open.IsPostgres(database) {
				return fmt.Errorf("%s: %s", open.Redact(database), pgDumpHint)
			}
			c, err := sqlite.Backup(cmd.Context(), database, output)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "backed up %s to %s: %v; integrity check ok\n", database, output, c)
			return nil
		},
	}
	cmd.Flags().StringVar(&database, "database", "checkpointd.db", "SQLite database file to back up: the one serve uses")
	cmd.Flags().StringVarP(&output, "output", "o", "", "the backup `FILE` to write; it must not exist")
	return cmd
}
