package backup

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller did wrong (or did not). The
// HTTP layer maps kinds to statuses in one table. Never reorder: values may
// be logged or counted.
type Kind uint8

// Error kinds.
const (
	Internal        Kind = iota // a fault of the server; its text is never shown
	Invalid                     // bad input: 400
	NotFound                    // 404, including Atlas's 404 for malformed ids
	Unauthenticated             // 401
	Forbidden                   // 403
	Conflict                    // 409
	RateLimited                 // 429
	Unavailable                 // 503: a dependency (the store) is down
	Gone                        // 410
)

var kindNames = [...]string{"internal", "invalid", "not found", "unauthenticated", "forbidden",
	"conflict", "rate limited", "unavailable", "gone"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error is the one error value every layer returns for a failure the caller
// should hear about. Code is what Atlas prints as errorCode, Detail the
// human sentence, Params the values substituted into Detail, in order.
type Error struct {
	Kind   Kind
	Code   string
	Detail string
	Params []any
	// Attr is the attribute of the request the error is about, as the
	// API names it ("backup.driver"), when there is one: a client, or
	// the command line naming its flag, points at it.
	Attr string
	// Err is the failure behind the error (a driver's, say), kept for the
	// logs through Error and Unwrap; callers never see it.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Detail + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Detail
}

// Unwrap returns the failure behind e, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error. format uses %s (or %d) verbs only; args become
// Params in order, so numbers stay JSON numbers in the error body.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	params := args
	if params == nil {
		params = []any{}
	}
	return &Error{Kind: kind, Code: code, Detail: fmt.Sprintf(format, args...), Params: params}
}

// ErrorOf returns the *Error in err's chain, or nil.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil // without errors.As's target, which escapes
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of err: Internal for anything that is not an
// *Error.
func KindOf(err error) Kind {
	if e := ErrorOf(err); e != nil {
		return e.Kind
	}
	return Internal
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	e := ErrorOf(err)
	return e != nil && e.Code == code
}

// Error codes, as the real service names them (including its misspelling
// of CONTINUOUS).
const (
	CodeInvalidGroupID        = "INVALID_GROUP_ID"
	CodeGroupNotFound         = "GROUP_NOT_FOUND"
	CodeInvalidClusterName    = "INVALID_CLUSTER_NAME"
	CodeClusterNotFound       = "CLUSTER_NOT_FOUND"
	CodeInvalidClusterID      = "INVALID_CLUSTER_ID"
	CodeInvalidCheckpointID   = "INVALID_CHECKPOINT_ID"
	CodeCheckpointNotFound    = "CHECKPOINT_NOT_FOUND"
	CodeCheckpointsOnlyLegacy = "CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP"
	CodeInvalidQueryParameter = "INVALID_QUERY_PARAMETER"
	CodeInvalidVersionDate    = "INVALID_VERSION_DATE"
	CodeInvalidAttribute      = "INVALID_ATTRIBUTE"
	CodeInvalidJSON           = "INVALID_JSON"
	CodeUnsupportedMediaType  = "UNSUPPORTED_MEDIA_TYPE"
	CodeRequestTimeout        = "REQUEST_TIMEOUT"
	CodeDuplicateClusterName  = "DUPLICATE_CLUSTER_NAME"
	CodeDuplicateCheckpoint   = "DUPLICATE_CHECKPOINT"
	CodeUnexpected            = "UNEXPECTED_ERROR"
	CodeResourceNotFound      = "RESOURCE_NOT_FOUND"
	CodeMethodNotAllowed      = "METHOD_NOT_ALLOWED"
	CodeRequestTooLarge       = "REQUEST_TOO_LARGE"
	CodeServiceUnavailable    = "SERVICE_UNAVAILABLE"
	CodeOrgNotFound           = "ORG_NOT_FOUND"
	CodeDuplicateGroupName    = "DUPLICATE_GROUP_NAME"
	CodeInvalidOrgID          = "INVALID_ORG_ID"

	CodeUserUnauthorized       = "USER_UNAUTHORIZED"
	CodeIPNotOnAccessList      = "IP_ADDRESS_NOT_ON_ACCESS_LIST"
	CodeRateLimited            = "RATE_LIMITED"
	CodeInvalidRole            = "INVALID_ROLE"
	CodeAPIKeyNotFound         = "API_KEY_NOT_FOUND"
	CodeServiceAccountNotFound = "SERVICE_ACCOUNT_NOT_FOUND"
	CodeDuplicateAPIKey        = "DUPLICATE_API_KEY"
	CodeDuplicateClientID      = "DUPLICATE_SERVICE_ACCOUNT"
	CodeCannotDeleteOrg        = "CANNOT_DELETE_ORG_ACTIVE_PROJECTS"
	CodeCannotCloseGroup       = "CANNOT_CLOSE_GROUP_ACTIVE_CLUSTERS"
	CodeDuplicateOrg           = "DUPLICATE_ORG"
	CodeDuplicateGroup         = "DUPLICATE_GROUP"
)

// ErrUserUnauthorized is the 401 for a caller whose roles do not allow the
// operation (api-fidelity §1.2, §7).
func ErrUserUnauthorized() *Error {
	return Errorf(Unauthenticated, CodeUserUnauthorized, "Current user is not authorized to perform this action.")
}

// ErrIPNotOnAccessList is the 403 for a request from an address outside
// the caller's API access list.
func ErrIPNotOnAccessList(addr string) *Error {
	return Errorf(Forbidden, CodeIPNotOnAccessList, "IP address %s is not allowed to access this resource.", addr)
}

// ErrRateLimited is the 429 of the legacy limiter: the resource (the
// request's path), the number of requests and the window in minutes, the
// numbers as JSON numbers.
func ErrRateLimited(resource string, requests, minutes int) *Error {
	return Errorf(RateLimited, CodeRateLimited, "Resource %s is limited to %d requests every %d minutes.", resource, requests, minutes)
}

// ErrAPIKeyNotFound is the 404 for an unknown API key.
func ErrAPIKeyNotFound(id string) *Error {
	return Errorf(NotFound, CodeAPIKeyNotFound, "No API key with ID %s exists.", id)
}

// ErrServiceAccountNotFound is the 404 for an unknown service account.
func ErrServiceAccountNotFound(clientID string) *Error {
	return Errorf(NotFound, CodeServiceAccountNotFound, "No service account with client ID %s exists.", clientID)
}

// ErrInvalidGroupID is the 404 Atlas answers for a malformed group id.
func ErrInvalidGroupID(raw string) *Error {
	return Errorf(NotFound, CodeInvalidGroupID, "An invalid group ID %s was specified.", raw)
}

// ErrGroupNotFound is the 404 for a well-formed but unknown group id.
func ErrGroupNotFound(id string) *Error {
	return Errorf(NotFound, CodeGroupNotFound, "No group with ID %s exists.", id)
}

// ErrClusterNotFound is the 404 for an unknown cluster name in a group.
func ErrClusterNotFound(name, groupID string) *Error {
	return Errorf(NotFound, CodeClusterNotFound, "No cluster named %s exists in group %s.", name, groupID)
}

// ErrClusterIDNotFound is Cloud Manager's 404 for an unknown cluster id.
func ErrClusterIDNotFound(id, groupID string) *Error {
	return Errorf(NotFound, CodeClusterNotFound, "No cluster with ID %s exists in group %s.", id, groupID)
}

// ErrInvalidClusterID is Cloud Manager's 404 for a malformed cluster id.
func ErrInvalidClusterID(raw string) *Error {
	return Errorf(NotFound, CodeInvalidClusterID, "An invalid cluster ID %s was specified.", raw)
}

// ErrOrgNotFound is the 404 for a well-formed but unknown organization id.
func ErrOrgNotFound(id string) *Error {
	return Errorf(NotFound, CodeOrgNotFound, "No organization with ID %s exists.", id)
}

// ErrDuplicateClusterName is the 409 for a cluster name already taken in
// its project.
func ErrDuplicateClusterName(name, groupID string) *Error {
	return Errorf(Conflict, CodeDuplicateClusterName, "A cluster named %s already exists in group %s.", name, groupID)
}

// ErrInvalidCheckpointID is the 404 for a malformed checkpoint id.
func ErrInvalidCheckpointID(raw string) *Error {
	return Errorf(NotFound, CodeInvalidCheckpointID, "An invalid checkpoint ID %s was specified.", raw)
}

// ErrCheckpointNotFound is the 404 for an unknown checkpoint. cluster is
// what the request named the cluster by (its name on Atlas, its id on Cloud
// Manager).
func ErrCheckpointNotFound(id, cluster string) *Error {
	return Errorf(NotFound, CodeCheckpointNotFound, "No checkpoint with ID %s exists for cluster %s.", id, cluster)
}

// ErrNotLegacyBackup is the 400 for a cluster protected by Cloud Backup.
func ErrNotLegacyBackup() *Error {
	return Errorf(Invalid, CodeCheckpointsOnlyLegacy, "Checkpoints do not exist for Cloud Backups.")
}

// ErrInvalidQueryParameter is the 400 for a query parameter whose value
// cannot be used.
func ErrInvalidQueryParameter(name string) *Error {
	return Errorf(Invalid, CodeInvalidQueryParameter, "Invalid query parameter %s specified.", name)
}

// Details of the 503 a store answers when it cannot do what was asked
// for now: its database cannot be reached (or does not answer in time), or
// its storage is full. Neither names the database, its address or the
// driver's words; those stay in the logs.
const (
	DetailStoreUnavailable = "The database is unavailable. Try again later."
	DetailStoreFull        = "The database's storage is full: nothing was written. Try again once space has been freed."
	// DetailStoreDamaged is the detail when the database's own files are
	// damaged: only its operator, restoring it from a backup, can mend it.
	DetailStoreDamaged = "The database is damaged and cannot be served until its operator restores it from a backup."
)

// ErrUnavailable is the 503 for a store that cannot serve for now, with
// detail DetailStoreUnavailable, DetailStoreFull or DetailStoreDamaged;
// cause is the driver's
// error, for the logs.
func ErrUnavailable(detail string, cause error) *Error {
	return &Error{Kind: Unavailable, Code: CodeServiceUnavailable, Detail: detail, Params: []any{}, Err: cause}
}

// ErrUnexpected is what any internal failure looks like to a caller.
func ErrUnexpected() *Error {
	return Errorf(Internal, CodeUnexpected, "Unexpected error.")
}
