// Package admin holds the operations an operator runs on a checkpointd
// data set, shared by the command line, the administration API (through
// Clusters, wired where the server is built) and the server's demo mode:
// creating organizations, projects and clusters with fresh ids, changing
// clusters (the domain's rules, in one transaction of the store), issuing
// API keys and service accounts (whose secrets are returned once and only
// their hashes stored), parsing roles and access lists, and listing what a
// store holds.
//
// Every operation takes the narrowest slice of the store contract
// (store.Store) it needs; the errors it returns are the store's, or a
// *backup.Error of kind Invalid for input it refuses before reaching the
// store.
package admin

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// OrganizationCreator stores organizations.
type OrganizationCreator interface {
	CreateOrganization(ctx context.Context, o backup.Organization) error
}

// ProjectCreator stores projects.
type ProjectCreator interface {
	CreateProject(ctx context.Context, p backup.Project) error
}

// APIKeyCreator stores API keys.
type APIKeyCreator interface {
	CreateAPIKey(ctx context.Context, k backup.APIKey, ha1 backup.DigestHA1) error
}

// ServiceAccountCreator stores service accounts.
type ServiceAccountCreator interface {
	CreateServiceAccount(ctx context.Context, sa backup.ServiceAccount, secret backup.ServiceAccountSecret) error
}

// ProjectLister lists organizations and projects.
type ProjectLister interface {
	Organizations(ctx context.Context) ([]backup.Organization, error)
	Projects(ctx context.Context, page backup.PageRequest) (backup.Page[backup.Project], error)
}

// ClusterLister lists a project's clusters.
type ClusterLister interface {
	Clusters(ctx context.Context, groupID backup.ObjectID, page backup.PageRequest) (backup.Page[backup.Cluster], error)
}

// ServiceAccountLister lists service accounts with their secrets.
type ServiceAccountLister interface {
	ServiceAccounts(ctx context.Context, orgID backup.ObjectID) ([]backup.ServiceAccount, error)
	ServiceAccount(ctx context.Context, clientID string) (backup.ServiceAccount, []backup.ServiceAccountSecret, error)
}

// Store is every store method the operator commands use, with the
// semantics and errors store.Store documents.
type Store interface {
	OrganizationCreator
	ProjectCreator
	ClusterStore
	APIKeyCreator
	ServiceAccountCreator
	ProjectLister
	ClusterLister
	ServiceAccountLister

	Project(ctx context.Context, id backup.ObjectID) (backup.Project, error)
	DeleteOrganization(ctx context.Context, id backup.ObjectID) error
	DeleteProject(ctx context.Context, id backup.ObjectID) error
	DeleteCluster(ctx context.Context, ref backup.ClusterRef) error
	APIKeys(ctx context.Context, orgID backup.ObjectID) ([]backup.APIKey, error)
	APIKey(ctx context.Context, publicKey string) (backup.APIKey, backup.DigestHA1, error)
	DeleteAPIKey(ctx context.Context, id backup.ObjectID) error
	DeleteServiceAccount(ctx context.Context, clientID string) error
}

// ids makes the ObjectIDs of everything created here.
var ids = backup.NewIDSource()

// NewObjectID returns a fresh ObjectID dated t.
func NewObjectID(t time.Time) backup.ObjectID { return ids.New(t) }

// stamp is the creation time stores keep, read from clk: UTC, whole
// seconds.
func stamp(clk clock.Clock) time.Time { return second(clk.Now()) }

// second is t as stores keep it: UTC, whole seconds.
func second(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// MaxNameLen is the longest organization or project name accepted, in
// characters, as Atlas limits them.
const MaxNameLen = 64

// checkName validates the name of an organization or project (what is
// "organization" or "project").
func checkName(what, name string) error {
	switch {
	case name == "":
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "%s needs a name.", article(what))
	case !utf8.ValidString(name):
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "The %s name is not valid UTF-8.", what)
	case utf8.RuneCountInString(name) > MaxNameLen:
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "The %s name %s is longer than %d characters.", what, strconv.Quote(name), MaxNameLen)
	case hasControl(name):
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "The %s name %s contains control characters.", what, strconv.Quote(name))
	case name != strings.TrimSpace(name):
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "The %s name %s starts or ends with white space.", what, strconv.Quote(name))
	}
	return nil
}

// article prefixes a noun with its indefinite article, capitalised.
func article(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "An " + noun
	}
	return "A " + noun
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
