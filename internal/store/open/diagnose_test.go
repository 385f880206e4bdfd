package open

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

// TestOpenErrorCauses: each cause the file system probe may find reads as
// what is wrong, where, and what to do. The causes a test cannot bring
// about without privileges (a full device, a read-only file system, a
// directory root may write anyway) are given as the probe would see them.
func TestOpenErrorCauses(t *testing.T) {
	sqliteErr := errors.New("sqlite: open /srv/cp/x.db: unable to open database file (14)")
	for _, tt := range []struct {
		name  string
		cause error
		want  string
	}{
		{"full device", &fs.PathError{Op: "write", Path: "/srv/cp/.checkpointd-probe-1", Err: syscall.ENOSPC},
			"database /srv/cp/x.db: no space left on the device holding /srv/cp: free some space there (df -h /srv/cp) and start again"},
		{"quota", &fs.PathError{Op: "write", Path: "/srv/cp/.checkpointd-probe-1", Err: syscall.EDQUOT}, "no space left on the device holding /srv/cp"},
		{"read-only file system", &fs.PathError{Op: "open", Path: "/srv/cp/.checkpointd-probe-1", Err: syscall.EROFS},
			"database /srv/cp/x.db: /srv/cp is on a read-only file system: checkpointd writes the database and its -wal and -shm files beside it; give --database a file on a writable file system"},
		{"directory not writable", &fs.PathError{Op: "open", Path: "/srv/cp/.checkpointd-probe-1", Err: syscall.EACCES},
			"database /srv/cp/x.db: permission denied writing /srv/cp: checkpointd writes the database and its -wal and -shm files in /srv/cp; give the user running it write access there"},
		{"database not writable", &fs.PathError{Op: "open", Path: "/srv/cp/x.db-wal", Err: syscall.EACCES},
			"permission denied writing /srv/cp/x.db-wal"},
		{"anything else", &fs.PathError{Op: "write", Path: "/srv/cp/.checkpointd-probe-1", Err: syscall.EIO},
			"database /srv/cp/x.db: " + sqliteErr.Error() + " (write /srv/cp/.checkpointd-probe-1: input/output error)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := &openError{path: "/srv/cp/x.db", dir: "/srv/cp", cause: tt.cause, err: sqliteErr}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
			if !errors.Is(err, sqliteErr) {
				t.Errorf("%v does not wrap SQLite's error", err)
			}
		})
	}
}
