package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/checkpointd/checkpointd/internal/client"
)

// spool keeps the checkpoint reports not yet acknowledged by the server,
// one file each, named by a sequence number so that they are delivered in
// the order they were taken. A report is on disk before the slot that
// took it ends, so a server that cannot be reached, or an agent restarted
// meanwhile, loses none; the server stores a report once however often it
// is sent (the agent chose its id), so a report delivered but not
// acknowledged and sent again is not stored twice.
type spool struct {
	dir      string // holds the pending reports
	rejected string // reports the server refused for good

	mu   sync.Mutex
	next uint64
}

const spoolExt = ".json"

// openSpool opens (creating) the spool under dir.
func openSpool(dir string) (*spool, error) {
	s := &spool{dir: filepath.Join(dir, "spool"), rejected: filepath.Join(dir, "spool", "rejected")}
	if err := os.MkdirAll(s.rejected, 0o700); err != nil {
		return nil, err
	}
	names, err := s.list()
	if err != nil {
		return nil, err
	}
	if len(names) > 0 {
		last, _ := seqOf(names[len(names)-1])
		s.next = last + 1
	}
	return s, nil
}

// spooled is one report with where it goes.
type spooled struct {
	Project string        `json:"project"`
	Cluster string        `json:"cluster"`
	Report  client.Report `json:"report"`
}

// put stores a report durably, after every report put before it.
func (s *spool) put(r spooled) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := fmt.Sprintf("%020d-%s%s", s.next, r.Report.ID, spoolExt)
	if err := writeFileDurably(s.dir, name, b); err != nil {
		return fmt.Errorf("agent: spool the report of checkpoint %s: %w", r.Report.ID, err)
	}
	s.next++
	return nil
}

// list returns the pending reports' file names, oldest first.
func (s *spool) list() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if _, ok := seqOf(e.Name()); ok && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // fixed-width sequence numbers sort as numbers
	return names, nil
}

func seqOf(name string) (uint64, bool) {
	if !strings.HasSuffix(name, spoolExt) || strings.HasPrefix(name, ".") {
		return 0, false
	}
	seq, _, ok := strings.Cut(name, "-")
	if !ok || len(seq) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	return n, err == nil
}

// pending counts the reports not yet delivered.
func (s *spool) pending() int {
	names, _ := s.list()
	return len(names)
}

// sendFunc delivers one report; it returns once the server acknowledged
// it.
type sendFunc func(ctx context.Context, r spooled) error

// deliver sends the pending reports oldest first, removing each once the
// server acknowledged it, and stops at the first that could not be
// delivered, so that none overtakes an earlier one. A report the server
// refuses for good (the report itself is invalid) is moved aside to
// rejected/ and reported, not retried forever: it would block every
// later one. It returns how many were delivered and the error that
// stopped it.
func (s *spool) deliver(ctx context.Context, send sendFunc, onRejected func(name string, err error)) (int, error) {
	names, err := s.list()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		path := filepath.Join(s.dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return n, err
		}
		var r spooled
		err = json.Unmarshal(b, &r)
		if err == nil {
			err = send(ctx, r)
		}
		switch {
		case err == nil:
			if err := os.Remove(path); err != nil {
				return n, err
			}
			n++
		case refusedForGood(err):
			if rerr := os.Rename(path, filepath.Join(s.rejected, name)); rerr != nil {
				return n, rerr
			}
			onRejected(name, err)
		default:
			return n, err
		}
	}
	if n > 0 {
		return n, syncDir(s.dir)
	}
	return n, nil
}

// refusedForGood reports whether a report was refused for what it says,
// so that sending it again cannot succeed: 400 (it breaks a rule), 409
// (another checkpoint has its id), 413 (too large), or a file that is not
// a report. Anything else — the server unreachable or failing, the
// credentials refused, the cluster not found (yet) — is worth a retry.
func refusedForGood(err error) bool {
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, errOtherCluster) {
		return true
	}
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Status {
	case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
		return true
	}
	return false
}
