package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// stateFile is where the agent records that it stopped a cluster's
// balancer, before it stops it, and clears the record once the balancer
// runs again. A record found at start names a balancer a killed agent
// left stopped: the next agent restarts it before anything else.
const stateFile = "balancer.json"

// balancerState is the record.
type balancerState struct {
	// Cluster is "<project id>/<cluster name>" of the agent that wrote it,
	// so that a state directory moved to another cluster's agent is not
	// taken for its own.
	Cluster   string    `json:"cluster"`
	StoppedAt time.Time `json:"stoppedAt"`
}

// readState returns the record in dir, if any.
func readState(dir string) (balancerState, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return balancerState{}, false, nil
	}
	if err != nil {
		return balancerState{}, false, err
	}
	var s balancerState
	if err := json.Unmarshal(b, &s); err != nil {
		return balancerState{}, false, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return s, true, nil
}

// writeState records s in dir durably: the file is written aside,
// synced, renamed into place and the directory synced, so that a crash at
// any point leaves either no record or the whole one.
func writeState(dir string, s balancerState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return writeFileDurably(dir, stateFile, b)
}

// clearState removes the record durably.
func clearState(dir string) error {
	if err := os.Remove(filepath.Join(dir, stateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(dir)
}

// writeFileDurably writes name in dir through a synced temporary file
// and a rename, then syncs dir.
func writeFileDurably(dir, name string, b []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
