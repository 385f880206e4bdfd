package open

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
)

// urlScheme matches a --database value that is a URL: SQLite is given
// paths, so a scheme other than PostgreSQL's is a mistake, not a file
// named "mysql:" in a directory.
var urlScheme = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*)://`)

// unsupportedScheme is the error for a --database URL of a database
// checkpointd cannot use, or nil.
func unsupportedScheme(database string) error {
	m := urlScheme.FindStringSubmatch(database)
	if m == nil {
		return nil
	}
	shown := m[0] + "…"
	if u, err := url.Parse(database); err == nil {
		shown = u.Redacted()
	}
	return fmt.Errorf("database %s: unsupported URL scheme %s://: give the path of a SQLite file (e.g. /var/lib/checkpointd/checkpointd.db) or a postgres:// URL",
		shown, m[1])
}

// explain turns SQLite's account of a failure to open path, which names
// neither the file nor the cause ("unable to open database file (14)",
// "disk I/O error (4874)"), into one that says what is wrong where and
// what to do. It looks at the file system itself rather than at the
// driver's error codes: a directory that is missing, not writable or on
// a full device. When it finds nothing wrong there, it returns err.
func explain(path string, err error) error {
	dir := filepath.Dir(path)
	if cause := probe(dir, path); cause != nil {
		return &openError{path: path, dir: dir, cause: cause, err: err}
	}
	return err
}

// probe finds what in the file system keeps SQLite from using path in
// dir: an error from os.Stat of dir, from creating and syncing a small
// file in dir (SQLite creates path-wal and path-shm beside the database
// and grows them), or from opening path, or path-wal and path-shm, for
// writing. Nil when every step succeeds.
func probe(dir, path string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "stat", Path: dir, Err: syscall.ENOTDIR}
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
	}
	f, err := os.CreateTemp(dir, ".checkpointd-probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	// A full device still lets an empty file be created; writing and
	// syncing a few pages does not.
	_, err = f.Write(make([]byte, 64<<10))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		f.Close()
	}
	return nil
}

// openError is a SQLite file that cannot be opened, with the cause probe
// found.
type openError struct {
	path, dir string
	cause     error // from probe
	err       error // SQLite's
}

func (e *openError) Unwrap() error { return e.err }

func (e *openError) Error() string {
	// The probe's own file is no concern of the reader's: name the
	// directory unless the database or its -wal or -shm is at fault.
	var pe *fs.PathError
	at := e.dir
	if errors.As(e.cause, &pe) && (pe.Path == e.path || pe.Path == e.path+"-wal" || pe.Path == e.path+"-shm") {
		at = pe.Path
	}
	switch {
	case errors.Is(e.cause, fs.ErrNotExist):
		return fmt.Sprintf("database %s: directory %s does not exist: create it (mkdir -p %s) or give --database a file in an existing directory", e.path, e.dir, e.dir)
	case errors.Is(e.cause, syscall.ENOTDIR):
		return fmt.Sprintf("database %s: %s is not a directory: give --database a file in a directory", e.path, e.dir)
	case errors.Is(e.cause, syscall.EISDIR):
		return fmt.Sprintf("database %s: it is a directory: give --database the path of a file (e.g. %s)", e.path, filepath.Join(e.path, "checkpointd.db"))
	case errors.Is(e.cause, syscall.ENOSPC), errors.Is(e.cause, syscall.EDQUOT):
		return fmt.Sprintf("database %s: no space left on the device holding %s: free some space there (df -h %s) and start again", e.path, e.dir, e.dir)
	case errors.Is(e.cause, syscall.EROFS):
		return fmt.Sprintf("database %s: %s is on a read-only file system: checkpointd writes the database and its -wal and -shm files beside it; give --database a file on a writable file system", e.path, e.dir)
	case errors.Is(e.cause, fs.ErrPermission):
		return fmt.Sprintf("database %s: permission denied writing %s: checkpointd writes the database and its -wal and -shm files in %s; give the user running it write access there, or give --database a file in a directory it may write", e.path, at, e.dir)
	}
	return fmt.Sprintf("database %s: %v (%v)", e.path, e.err, e.cause)
}
