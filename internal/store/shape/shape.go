// Package shape holds the stored shapes both stores share, so that a row
// written by one means the same to the other and a change is made once:
// the JSON of grants, access lists, shards and config servers, how ids,
// times and expiries are stored, and the checks made before storing.
// Nothing here knows a driver.
package shape

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// grant and the access list's strings are the stored JSON shapes, with
// their own names so that renaming a Go field or a role constant never
// changes what stored rows mean.
type grant struct {
	Role    string `json:"role"`
	GroupID string `json:"groupId,omitempty"`
}

// EncodeGrants returns the stored JSON of gs.
func EncodeGrants(gs []backup.Grant) (string, error) {
	out := make([]grant, len(gs))
	for i, g := range gs {
		out[i].Role = string(g.Role)
		if !g.ProjectID.IsZero() {
			out[i].GroupID = g.ProjectID.Hex()
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// DecodeGrants reads what EncodeGrants stored; an empty list reads as nil.
func DecodeGrants(s string) ([]backup.Grant, error) {
	var in []grant
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("grants: %w", err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]backup.Grant, len(in))
	for i, g := range in {
		out[i].Role = backup.Role(g.Role)
		if g.GroupID != "" {
			id, err := ParseIDString(g.GroupID)
			if err != nil {
				return nil, fmt.Errorf("grants: %w", err)
			}
			out[i].ProjectID = id
		}
	}
	return out, nil
}

// EncodeAccessList stores prefixes as their strings; an invalid prefix
// (the zero netip.Prefix) would not read back, so it is refused.
func EncodeAccessList(ps []netip.Prefix) (string, error) {
	out := make([]string, len(ps))
	for i, p := range ps {
		if !p.IsValid() {
			return "", backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "Invalid attribute %s specified.", "accessList")
		}
		out[i] = p.String()
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// DecodeAccessList reads what EncodeAccessList stored; an empty list
// reads as nil.
func DecodeAccessList(s string) ([]netip.Prefix, error) {
	var in []string
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("access list: %w", err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]netip.Prefix, len(in))
	for i, p := range in {
		var err error
		if out[i], err = netip.ParsePrefix(p); err != nil {
			return nil, fmt.Errorf("access list: %w", err)
		}
	}
	return out, nil
}

// Principal encodes a principal's grants and access list for storing.
func Principal(gs []backup.Grant, ps []netip.Prefix) (grants, accessList string, err error) {
	if grants, err = EncodeGrants(gs); err != nil {
		return "", "", err
	}
	if accessList, err = EncodeAccessList(ps); err != nil {
		return "", "", err
	}
	return grants, accessList, nil
}

// ValidHA1 reports whether s is empty or lowercase hex of n digits.
func ValidHA1(s string, n int) bool {
	if s == "" {
		return true
	}
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ExpirySeconds is how a token's expiry is stored: rounded up to the
// second, so that the revocation lasts at least as long as the token.
func ExpirySeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() != 0 {
		s++
	}
	return s
}

// shard and config are the stored JSON shapes of a cluster's shards and
// config server, with their own names so that renaming a Go field never
// changes what stored rows mean.
type shard struct {
	Name           string `json:"name"`
	ReplicaSetName string `json:"replicaSetName"`
}

type config struct {
	ReplicaSetName string   `json:"replicaSetName,omitempty"`
	HostIDs        []string `json:"hostIds,omitempty"`
}

// EncodeShards returns the stored JSON of a cluster's shards.
func EncodeShards(ss []backup.Shard) (string, error) {
	out := make([]shard, len(ss))
	for i, s := range ss {
		out[i] = shard{Name: s.Name, ReplicaSetName: s.ReplicaSetName}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// DecodeShards reads what EncodeShards stored; an empty list reads as nil.
func DecodeShards(s string) ([]backup.Shard, error) {
	var in []shard
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]backup.Shard, len(in))
	for i, s := range in {
		out[i] = backup.Shard{Name: s.Name, ReplicaSetName: s.ReplicaSetName}
	}
	return out, nil
}

// EncodeConfig returns the stored JSON of a cluster's config server.
func EncodeConfig(c backup.ConfigServer) (string, error) {
	b, err := json.Marshal(config{ReplicaSetName: c.ReplicaSetName, HostIDs: c.HostIDs})
	return string(b), err
}

// DecodeConfig reads what EncodeConfig stored; no host ids read as nil,
// as EncodeConfig leaves them out.
func DecodeConfig(s string) (backup.ConfigServer, error) {
	var in config
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return backup.ConfigServer{}, err
	}
	if len(in.HostIDs) == 0 {
		in.HostIDs = nil
	}
	return backup.ConfigServer{ReplicaSetName: in.ReplicaSetName, HostIDs: in.HostIDs}, nil
}

// ParseID reads a stored 24-hex id without allocating.
func ParseID(b []byte) (backup.ObjectID, error) {
	var id backup.ObjectID
	if len(b) != 2*len(id) {
		return id, fmt.Errorf("stored id %q is not 24 hex digits", b)
	}
	if _, err := hex.Decode(id[:], b); err != nil {
		return id, fmt.Errorf("stored id %q: %w", b, err)
	}
	return id, nil
}

// ParseIDString is ParseID for a stored id read as a string.
func ParseIDString(s string) (backup.ObjectID, error) {
	id, ok := backup.ParseObjectID(s)
	if !ok {
		return id, fmt.Errorf("stored id %q is not 24 hex digits", s)
	}
	return id, nil
}

// UnixTime is how every stored time is read: whole seconds, UTC. The zero
// time.Time is stored as its own Unix seconds and reads back as the zero
// value.
func UnixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// PartCount reads the part count from an encoded blob's header, for
// sizing; 0 if it cannot.
func PartCount(blob []byte) int {
	if len(blob) < 2 {
		return 0
	}
	n := 0
	for i, shift := 1, 0; i < len(blob) && shift < 28; i, shift = i+1, shift+7 {
		n |= int(blob[i]&0x7f) << shift
		if blob[i] < 0x80 {
			return min(n, 1024)
		}
	}
	return 0
}

// KeyLess orders checkpoints as listing does: by timestamp, then id. Hex
// ids compare as their bytes do.
func KeyLess(ts1 int64, id1 string, ts2 int64, id2 string) bool {
	return ts1 < ts2 || ts1 == ts2 && id1 < id2
}

// ScheduleColumns is a cluster's checkpoint schedule as the stores keep it:
// the driver as given ("" stays ""), the interval in minutes, the window
// in hours and the recovery point objective in minutes (all 0 when
// unset), so that a cluster reads back exactly as it was written.
func ScheduleColumns(s backup.CheckpointSchedule) (driver string, intervalMin, windowHours, objectiveMin int64) {
	return string(s.Driver), int64(s.Interval / time.Minute), int64(s.Window / time.Hour), int64(s.Objective / time.Minute)
}

// ScheduleOf is the inverse of ScheduleColumns.
func ScheduleOf(driver string, intervalMin, windowHours, objectiveMin int64) backup.CheckpointSchedule {
	return backup.CheckpointSchedule{
		Driver:    backup.Driver(driver),
		Interval:  time.Duration(intervalMin) * time.Minute,
		Window:    time.Duration(windowHours) * time.Hour,
		Objective: time.Duration(objectiveMin) * time.Minute,
	}
}

// ClusterColumns are a cluster's stored values that are not plain fields
// of backup.Cluster: its shards and config servers as JSON and its
// schedule (ScheduleColumns).
type ClusterColumns struct {
	Shards, Config string
	Driver         string
	IntervalMin    int64
	WindowHours    int64
	ObjectiveMin   int64
	// Status is the backup state as given ("" stays ""); Snapshots the
	// snapshot schedule's JSON, "" for the zero value (the defaults).
	Status    string
	Snapshots string
}

// ColumnsOf validates c and encodes what the stores keep of it beside its
// plain fields: the one step CreateCluster and UpdateCluster of every
// store share. Validation errors are c.Validate's *backup.Error.
func ColumnsOf(c backup.Cluster) (ClusterColumns, error) {
	var cc ClusterColumns
	if err := c.Validate(); err != nil {
		return cc, err
	}
	var err error
	if cc.Shards, err = EncodeShards(c.Shards); err != nil {
		return cc, fmt.Errorf("cluster %s: %w", c.ID.Hex(), err)
	}
	if cc.Config, err = EncodeConfig(c.Config); err != nil {
		return cc, fmt.Errorf("cluster %s: %w", c.ID.Hex(), err)
	}
	cc.Driver, cc.IntervalMin, cc.WindowHours, cc.ObjectiveMin = ScheduleColumns(c.Schedule)
	cc.Status = string(c.Status)
	if cc.Snapshots, err = EncodeSnapshots(c.Snapshots); err != nil {
		return cc, fmt.Errorf("cluster %s: %w", c.ID.Hex(), err)
	}
	return cc, nil
}

// snapshots is the stored JSON shape of a backup.SnapshotSchedule.
type snapshots struct {
	IntervalHours          int    `json:"intervalHours"`
	RetentionDays          int    `json:"retentionDays"`
	DailyRetentionDays     int    `json:"dailyRetentionDays"`
	WeeklyRetentionWeeks   int    `json:"weeklyRetentionWeeks"`
	MonthlyRetentionMonths int    `json:"monthlyRetentionMonths"`
	FullIncrementalDay     string `json:"fullIncrementalDayOfWeek,omitempty"`
}

// EncodeSnapshots returns the stored JSON of a snapshot schedule: "" for
// the zero value, so that a cluster that never had one reads back as it
// was written.
func EncodeSnapshots(s backup.SnapshotSchedule) (string, error) {
	if s == (backup.SnapshotSchedule{}) {
		return "", nil
	}
	b, err := json.Marshal(snapshots{s.IntervalHours, s.RetentionDays, s.DailyRetentionDays,
		s.WeeklyRetentionWeeks, s.MonthlyRetentionMonths, s.FullIncrementalDayOfWeek})
	return string(b), err
}

// DecodeSnapshots reads what EncodeSnapshots stored.
func DecodeSnapshots(s string) (backup.SnapshotSchedule, error) {
	if s == "" {
		return backup.SnapshotSchedule{}, nil
	}
	var in snapshots
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return backup.SnapshotSchedule{}, err
	}
	return backup.SnapshotSchedule{IntervalHours: in.IntervalHours, RetentionDays: in.RetentionDays,
		DailyRetentionDays: in.DailyRetentionDays, WeeklyRetentionWeeks: in.WeeklyRetentionWeeks,
		MonthlyRetentionMonths: in.MonthlyRetentionMonths, FullIncrementalDayOfWeek: in.FullIncrementalDay}, nil
}

// Change applies change to a copy of c, the cluster UpdateCluster of every
// store read in its transaction, and refuses a change of what identifies
// the cluster (its id, project and creation time), which an update never
// makes. The copy's slices are its own, so change cannot alter c.
func Change(c backup.Cluster, change func(*backup.Cluster) error) (backup.Cluster, error) {
	out := c
	out.Shards = slices.Clone(c.Shards)
	out.Config.HostIDs = slices.Clone(c.Config.HostIDs)
	if err := change(&out); err != nil {
		return backup.Cluster{}, err
	}
	if out.ID != c.ID || out.GroupID != c.GroupID || !out.Created.Equal(c.Created) {
		return backup.Cluster{}, fmt.Errorf("cluster %s: an update changed its id, project or creation time", c.ID.Hex())
	}
	return out, nil
}

// BackupChange is Change for a caller who may change a cluster's backup
// but not the cluster (store.UpdateBackup): change may set the backup's
// state, the snapshot schedule and the checkpoint interval and window,
// and nothing else of the cluster.
func BackupChange(c backup.Cluster, change func(*backup.Cluster) error) (backup.Cluster, error) {
	out, err := Change(c, change)
	if err != nil {
		return backup.Cluster{}, err
	}
	kept := out
	kept.Status, kept.Snapshots = c.Status, c.Snapshots
	kept.Schedule.Interval, kept.Schedule.Window = c.Schedule.Interval, c.Schedule.Window
	if !reflect.DeepEqual(kept, c) {
		return backup.Cluster{}, fmt.Errorf("cluster %s: a backup update changed more than the backup", c.ID.Hex())
	}
	return out, nil
}

// StoredCheckpoint is a checkpoint as both stores keep its row, but for
// its place in the cluster's order: the cluster's key, the id, times as
// Unix seconds (Completed NULL when unknown) and the parts as codec
// encodes them.
type StoredCheckpoint struct {
	Cluster    int64
	ID         string
	Started    int64
	Completed  sql.NullInt64
	Timestamp  int64
	Restorable bool
	Parts      []byte
}

// StoredOf is cp as stored in cluster, with parts its encoded parts.
func StoredOf(cp *backup.Checkpoint, cluster int64, parts []byte) StoredCheckpoint {
	s := StoredCheckpoint{Cluster: cluster, ID: cp.ID.Hex(), Started: cp.Started.Unix(), Timestamp: cp.Timestamp.Unix(),
		Restorable: cp.Restorable, Parts: parts}
	if !cp.Completed.IsZero() {
		s.Completed = sql.NullInt64{Int64: cp.Completed.Unix(), Valid: true}
	}
	return s
}

// Same reports whether two stored forms hold the same checkpoint, which
// makes adding a checkpoint again a no-op. The stored form is normalized
// (UTC, whole seconds), so a retry with an equal but differently-zoned
// time is still the same checkpoint.
func (s *StoredCheckpoint) Same(o *StoredCheckpoint) bool {
	return s.Cluster == o.Cluster && s.ID == o.ID && s.Started == o.Started &&
		s.Completed == o.Completed &&
		s.Timestamp == o.Timestamp && s.Restorable == o.Restorable && bytes.Equal(s.Parts, o.Parts)
}

// ErrDifferentCheckpoint is the 409 for adding a checkpoint whose id a
// different stored checkpoint has.
func ErrDifferentCheckpoint(id string) *backup.Error {
	return backup.Errorf(backup.Conflict, backup.CodeDuplicateCheckpoint,
		"A different checkpoint with ID %s already exists.", id)
}

// DropProjectGrants reads stored grants (EncodeGrants's JSON) and returns
// them stored again without the grants on project, for deleting the
// project; changed is false, and grants "", when there were none.
func DropProjectGrants(stored string, project backup.ObjectID) (grants string, changed bool, err error) {
	gs, err := DecodeGrants(stored)
	if err != nil {
		return "", false, err
	}
	kept := gs[:0]
	for _, g := range gs {
		if g.ProjectID != project {
			kept = append(kept, g)
		}
	}
	if len(kept) == len(gs) {
		return "", false, nil
	}
	grants, err = EncodeGrants(kept)
	return grants, err == nil, err
}

// Row is a row to scan: database/sql's and pgx's rows both.
type Row interface{ Scan(dest ...any) error }

// APIKeyCols are the columns ScanAPIKey reads, in its order.
const APIKeyCols = `id, org_id, public_key, description, ha1_md5, ha1_sha256, grants, access_list, created`

// ScanAPIKey reads an API key and its digest hashes from a row of
// APIKeyCols.
func ScanAPIKey(row Row) (backup.APIKey, backup.DigestHA1, error) {
	var (
		k                     backup.APIKey
		ha1                   backup.DigestHA1
		id, org, grants, list string
		created               int64
	)
	if err := row.Scan(&id, &org, &k.PublicKey, &k.Description, &ha1.MD5, &ha1.SHA256, &grants, &list, &created); err != nil {
		return k, ha1, err
	}
	var err error
	if k.ID, err = ParseIDString(id); err != nil {
		return k, ha1, err
	}
	if k.OrgID, err = ParseIDString(org); err != nil {
		return k, ha1, err
	}
	if k.Grants, err = DecodeGrants(grants); err != nil {
		return k, ha1, fmt.Errorf("API key %s: %w", id, err)
	}
	if k.AccessList, err = DecodeAccessList(list); err != nil {
		return k, ha1, fmt.Errorf("API key %s: %w", id, err)
	}
	k.Created = UnixTime(created)
	return k, ha1, nil
}

// ServiceAccountCols are the columns ScanServiceAccount reads, in its
// order.
const ServiceAccountCols = `client_id, org_id, name, description, grants, access_list, created`

// ScanServiceAccount reads a service account from a row of
// ServiceAccountCols.
func ScanServiceAccount(row Row) (backup.ServiceAccount, error) {
	var (
		sa                backup.ServiceAccount
		org, grants, list string
		created           int64
	)
	if err := row.Scan(&sa.ClientID, &org, &sa.Name, &sa.Description, &grants, &list, &created); err != nil {
		return sa, err
	}
	var err error
	if sa.OrgID, err = ParseIDString(org); err != nil {
		return sa, err
	}
	if sa.Grants, err = DecodeGrants(grants); err != nil {
		return sa, fmt.Errorf("service account %s: %w", sa.ClientID, err)
	}
	if sa.AccessList, err = DecodeAccessList(list); err != nil {
		return sa, fmt.Errorf("service account %s: %w", sa.ClientID, err)
	}
	sa.Created = UnixTime(created)
	return sa, nil
}

// OrganizationCols are the columns ScanOrganization reads, in its order.
const OrganizationCols = `id, name, created`

// ScanOrganization reads an organization from a row of OrganizationCols.
func ScanOrganization(row Row) (backup.Organization, error) {
	var (
		o       backup.Organization
		id      string
		created int64
	)
	if err := row.Scan(&id, &o.Name, &created); err != nil {
		return o, err
	}
	var err error
	if o.ID, err = ParseIDString(id); err != nil {
		return o, err
	}
	o.Created = UnixTime(created)
	return o, nil
}
