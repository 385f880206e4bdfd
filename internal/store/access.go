package store

import (
	"context"
	"fmt"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Authorization is decided here, once for every store, and asked by every
// store method on entry: the caller is the principal in the method's
// context (backup.WithPrincipal), and a context without one is refused
// (backup.ErrNoPrincipal) whatever the method. Methods on one project's
// data then check the caller against the project's organization in the
// statement or transaction that found the project (Authorize), so that
// the answer for a project the caller may not read says nothing about
// what it holds. Everything else is the server's own business (System).

// Need is what a method needs of its caller on a project.
type Need uint8

// Needs, from least to most.
const (
	Read   Need = iota // read its clusters and checkpoints (backup.Principal.CheckProject)
	Report             // report checkpoints of its clusters (CheckReporter)
	Admin              // change its clusters (CheckAdmin)
)

// Caller returns the principal of ctx, refusing a context without one.
func Caller(ctx context.Context) (*backup.Principal, error) {
	return backup.CallerOf(ctx)
}

// System refuses every caller of ctx but backup.System: organizations,
// projects, credentials, tokens, secrets, schedules, claims and retention
// are never a request's caller's to read or change through the store.
func System(ctx context.Context) error {
	p, err := backup.CallerOf(ctx)
	if err != nil {
		return err
	}
	if !p.IsSystem() {
		return backup.ErrUserUnauthorized()
	}
	return nil
}

// Authorize decides whether the caller of ctx has need on a project
// whose organization id was read as stored text.
func Authorize(ctx context.Context, need Need, org string, project backup.ObjectID) error {
	p, err := backup.CallerOf(ctx)
	if err != nil || p.IsSystem() {
		return err
	}
	orgID, ok := backup.ParseObjectID(org)
	if !ok {
		return fmt.Errorf("organization of project %s: stored id %q is not 24 hex digits", project.Hex(), org)
	}
	switch need {
	case Report:
		return p.CheckReporter(orgID, project)
	case Admin:
		return p.CheckAdmin(orgID, project)
	}
	return p.CheckProject(orgID, project)
}

// Scope is the set of projects a caller may list: every project when All,
// else the projects of OrgID, all of them when OrgWide, else those in IDs
// (which a store still checks are OrgID's).
type Scope struct {
	All     bool
	OrgID   backup.ObjectID
	OrgWide bool
	IDs     []backup.ObjectID
}

// ScopeOf returns the projects the caller of ctx may list.
func ScopeOf(ctx context.Context) (Scope, error) {
	p, err := backup.CallerOf(ctx)
	if err != nil {
		return Scope{}, err
	}
	if p.IsSystem() {
		return Scope{All: true}, nil
	}
	s := Scope{OrgID: p.OrgID}
	for _, g := range p.Grants {
		switch {
		case g.ProjectID.IsZero():
			if g.Role == backup.OrgOwner || g.Role == backup.OrgReadOnly {
				s.OrgWide = true
			}
		default:
			if known, org := backup.ValidRole(g.Role); known && !org {
				s.IDs = append(s.IDs, g.ProjectID)
			}
		}
	}
	return s, nil
}

// Resolve turns what one statement read of a cluster reference into the
// API's answer, in the order every store reports it: GROUP_NOT_FOUND
// when there is no project (hasProject false), then the caller's need on
// the project (Authorize, org being its organization), then
// CLUSTER_NOT_FOUND when no cluster matched, then, for a cluster on Cloud
// Backup, CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP. nil means the cluster may
// be used.
func Resolve(ctx context.Context, need Need, ref backup.ClusterRef, org string, hasProject, hasCluster, cloud bool) error {
	if !hasProject {
		return backup.ErrGroupNotFound(ref.GroupID.Hex())
	}
	if err := Authorize(ctx, need, org, ref.GroupID); err != nil {
		return err
	}
	if !hasCluster {
		return ref.NotFound()
	}
	if cloud {
		return backup.ErrNotLegacyBackup()
	}
	return nil
}
