package httpapi_test

// The server is held to its own OpenAPI document (internal/httpapi/openapi):
//
//   - TestOpenAPIRoutes: every route the server registers (the
//     administration API's included) is a documented path, and every
//     documented path is routed, but for any path named in
//     pendingAdminPaths;
//   - TestOpenAPIMethods: each documented path answers exactly the
//     documented methods (plus HEAD beside GET) and 405 to the others;
//   - TestOpenAPIConformance: real responses of every operation, the
//     administration API's included, successes and errors, with Digest and
//     bearer credentials and without any, are validated with
//     openapi3filter, request (with its body) and response, and every
//     status the document lists for an operation (but 500) is seen;
//   - TestOpenAPIServed: the document is served, unauthenticated, as YAML
//     and as JSON, and both are the same valid document.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/mongodb-forks/digest"
	yaml "github.com/oasdiff/yaml3"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/httpapi/openapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// pendingAdminPaths are the documented paths of the admin API that the
// server does not route yet: the one exception to "documented ⇔ routed".
// A path listed here that the server does route fails TestOpenAPIRoutes,
// so the list can only shrink as the routes land. A path that leaves the
// list joins TestOpenAPIMethods and the coverage check of
// TestOpenAPIConformance, which then wants a validated response for each
// status the document lists for its operations (but 500): give it cases.
//
// Every admin path is routed now (when httpapi.Config.Admin is set, as in
// these tests), so the list is empty.
var pendingAdminPaths []string

// catchAll is the pattern of the server's fallback route: any path no
// other route matches is 404 RESOURCE_NOT_FOUND, as the document's
// description says. It is the one registered pattern that is not a path.
const catchAll = "/"

// ownDoc is checkpointd's document, loaded for validation.
type ownDoc struct {
	doc        *openapi3.T
	router     routers.Router
	apiError   *openapi3.SchemaRef
	oauthError *openapi3.SchemaRef
}

var loadOwnDoc = sync.OnceValues(func() (*ownDoc, error) {
	y, _ := openapi.Documents("test")
	doc, err := openapi3.NewLoader().LoadFromData(y)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	closeObjects(doc)
	// The document's server is "/", relative to wherever it is served;
	// without servers the router matches on the path alone, which is what
	// an httptest server on a random port needs.
	doc.Servers = nil
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &ownDoc{doc: doc, router: r,
		apiError: doc.Components.Schemas["ApiError"], oauthError: doc.Components.Schemas["OAuthError"]}, nil
})

func mustOwnDoc(t *testing.T) *ownDoc {
	t.Helper()
	d, err := loadOwnDoc()
	if err != nil {
		t.Fatalf("checkpointd's OpenAPI document: %v", err)
	}
	return d
}

// closeObjects forbids, in this test's copy of the document only, the
// properties an object schema does not list. The document leaves objects
// open, as clients should expect new fields; here every field the server
// sends must be documented.
func closeObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.SchemaRef)
	walk = func(r *openapi3.SchemaRef) {
		if r == nil || r.Value == nil || seen[r.Value] {
			return
		}
		s := r.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			closed := false
			s.AdditionalProperties.Has = &closed
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.Not)
		walk(s.AdditionalProperties.Schema)
		for _, l := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, x := range l {
				walk(x)
			}
		}
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
}

// exchange is one request and its response as they went over the wire.
type exchange struct {
	req     *http.Request
	reqBody []byte
	status  int
	header  http.Header
	body    []byte
}

// recorder is a RoundTripper that keeps every exchange, so that both legs
// of a Digest request (the challenge and the answer) are validated.
type recorder struct{ xs []exchange }

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	rec.xs = append(rec.xs, exchange{req: req.Clone(context.Background()), reqBody: reqBody, status: res.StatusCode, header: res.Header.Clone(), body: body})
	return res, nil
}

// verdict is what the document says of one exchange.
type verdict struct {
	op      string // the operationId; "" when no operation has the path and method
	params  error  // parameters and body against the operation
	authErr error  // the operation's security requirements
	resErr  error  // the response
}

// schemeAuth accepts a request when its Authorization header uses the
// security scheme's HTTP scheme (digest, bearer or basic). Whether the
// credentials are good is the server's business; whether the request
// carries the kind the document asks for is the document's.
func schemeAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	scheme, _, _ := strings.Cut(h, " ")
	if in.SecurityScheme.Type != "http" || !strings.EqualFold(scheme, in.SecurityScheme.Scheme) {
		return in.NewError(fmt.Errorf("no %s credentials", in.SecurityScheme.Scheme))
	}
	return nil
}

// judge validates one exchange against the document.
func (d *ownDoc) judge(x exchange) verdict {
	var v verdict
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	req := x.req.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(x.reqBody))
	head := req.Method == http.MethodHead
	if head {
		// HEAD is GET without a body.
		req.Method = http.MethodGet
	}
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		if !errors.Is(err, routers.ErrPathNotFound) && !errors.Is(err, routers.ErrMethodNotAllowed) {
			v.resErr = fmt.Errorf("finding the operation: %w", err)
			return v
		}
		// No operation: a wrong method or an unknown path. The answer must
		// be an error in the API's format (an OAuth error on the token
		// endpoints).
		schema, name := d.apiError, "ApiError"
		if strings.HasPrefix(req.URL.Path, "/api/oauth/") {
			schema, name = d.oauthError, "OAuthError"
		}
		var errs []error
		if x.status < 400 {
			errs = append(errs, fmt.Errorf("status %d for a path and method the document does not have", x.status))
		}
		if !head {
			if ct := x.header.Get("Content-Type"); ct != "application/json" {
				errs = append(errs, fmt.Errorf("error Content-Type %q", ct))
			}
			var body any
			if err := json.Unmarshal(x.body, &body); err != nil {
				errs = append(errs, fmt.Errorf("error body is not JSON: %w", err))
			} else if err := schema.Value.VisitJSON(body, openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
				errs = append(errs, fmt.Errorf("error body is not an %s: %w", name, err))
			}
		}
		v.resErr = errors.Join(errs...)
		return v
	}
	v.op = route.Operation.OperationID
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true, SkipSettingDefaults: true},
	}
	v.params = openapi3filter.ValidateRequest(ctx, in)
	security := route.Operation.Security
	if security == nil {
		security = &d.doc.Security
	}
	authIn := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: schemeAuth}}
	v.authErr = openapi3filter.ValidateSecurityRequirements(ctx, authIn, *security)
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 x.status,
		Header:                 x.header,
		Body:                   io.NopCloser(bytes.NewReader(x.body)),
		Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true, ExcludeResponseBody: head},
	}
	v.resErr = openapi3filter.ValidateResponse(ctx, out)
	if head && len(x.body) != 0 {
		v.resErr = errors.Join(v.resErr, errors.New("HEAD response with a body"))
	}
	return v
}

// Who makes a request.
type who int

const (
	reader        who = iota // reads every project of the demo organization
	nobody                   // no credentials at all
	member                   // ORG_MEMBER: authenticated, reads nothing
	outsider                 // a reader whose API access list excludes 127.0.0.1
	owner                    // ORG_OWNER: may administer the demo project's clusters
	backupManager            // GROUP_BACKUP_MANAGER of the demo project: may report checkpoints
)

// credentials of one kind (API keys or service accounts) for each who.
type credentials struct {
	kind  string // "digest" or "bearer"
	users map[who][2]string
	// tokens are bearer tokens, by who.
	tokens map[who]string
}

// openapiEnv is a server with real authentication and the administration
// API over a demo data set, plus everything the error cases need.
type openapiEnv struct {
	db      *sqlite.DB
	ds      demo.Dataset
	srv     *httptest.Server
	limited *httptest.Server // the same data set, one request per caller per hour
	other   backup.Project   // a project of another organization
	cloud   backup.Cluster   // a cluster on Cloud Backup, in the demo project
	keys    credentials
	sas     credentials
	// saSecrets are the client ids and secrets of the service accounts.
	saSecrets map[who][2]string
	limitedSA [2]string // a service account for the limited server
	// limitedOwner is an ORG_OWNER service account for the limited
	// server's administration API.
	limitedOwner [2]string
	// restores is what the restore job cases use (addRestoreFixture).
	restores restoreFixture
	// slots is what the slot cases use (addSlotFixture).
	slots slotFixture
}

func newOpenAPIEnv(t *testing.T) *openapiEnv {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "openapi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: demoNow, Days: 2})
	if err != nil {
		t.Fatal(err)
	}
	e := &openapiEnv{db: db, ds: ds, saSecrets: map[who][2]string{}}
	addRestoreFixture(t, e)
	addSlotFixture(t, e)
	otherOrg := backup.Organization{ID: backup.MustParseObjectID("6a0000000000000000000001"), Name: "Other", Created: demoNow}
	e.other = backup.Project{ID: backup.MustParseObjectID("6a0000000000000000000002"), OrgID: otherOrg.ID, Name: "Theirs", Created: demoNow}
	e.cloud = backup.Cluster{ID: backup.MustParseObjectID("6a0000000000000000000003"), GroupID: ds.Project.ID, Name: "CloudCluster",
		Type: backup.ReplicaSet, ReplicaSetName: "CloudCluster-shard-0", MongoDBVersion: "4.0.28", Backup: backup.BackupCloud, Created: demoNow}
	if err := db.CreateOrganization(ctx, otherOrg); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateProject(ctx, e.other); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCluster(ctx, e.cloud); err != nil {
		t.Fatal(err)
	}

	org := ds.Org.ID
	grants := map[who][]backup.Grant{
		reader:        {{Role: backup.OrgReadOnly}},
		member:        {{Role: backup.OrgMember}},
		outsider:      {{Role: backup.OrgReadOnly}},
		owner:         {{Role: backup.OrgOwner}},
		backupManager: {{Role: backup.OrgMember}, {Role: backup.ProjectBackupManager, ProjectID: ds.Project.ID}},
	}
	access := func(w who) []netip.Prefix {
		if w == outsider {
			return []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}
		return nil
	}
	e.keys = credentials{kind: "digest", users: map[who][2]string{}}
	e.sas = credentials{kind: "bearer", tokens: map[who]string{}}
	for _, w := range []who{reader, member, outsider, owner, backupManager} {
		k, priv, err := admin.CreateAPIKey(ctx, db, org, "openapi test", grants[w], access(w), clock.System)
		if err != nil {
			t.Fatal(err)
		}
		e.keys.users[w] = [2]string{k.PublicKey, priv}
		sa, secret, err := admin.CreateServiceAccount(ctx, db, org, "openapi-test", "", grants[w], access(w), admin.MinSecretTTL, clock.System)
		if err != nil {
			t.Fatal(err)
		}
		e.saSecrets[w] = [2]string{sa.ClientID, secret}
	}
	sa, secret, err := admin.CreateServiceAccount(ctx, db, org, "limited", "", grants[reader], nil, admin.MinSecretTTL, clock.System)
	if err != nil {
		t.Fatal(err)
	}
	e.limitedSA = [2]string{sa.ClientID, secret}
	sa, secret, err = admin.CreateServiceAccount(ctx, db, org, "limited-owner", "", grants[owner], nil, admin.MinSecretTTL, clock.System)
	if err != nil {
		t.Fatal(err)
	}
	e.limitedOwner = [2]string{sa.ClientID, secret}

	a, err := auth.New(ctx, auth.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(httpapi.New(httpapi.Config{Auth: a, OAuth: a, Admin: db, ClusterAdmin: admin.Clusters{Store: db}, Version: "v-openapi-test"}, db))
	t.Cleanup(e.srv.Close)
	hour := auth.Limit{Requests: 1, Window: time.Hour}
	la, err := auth.New(ctx, auth.Config{Store: db, RateLimit: hour, TokenRateLimit: hour})
	if err != nil {
		t.Fatal(err)
	}
	e.limited = httptest.NewServer(httpapi.New(httpapi.Config{Auth: la, OAuth: la, Admin: db, ClusterAdmin: admin.Clusters{Store: db}}, db))
	t.Cleanup(e.limited.Close)
	return e
}

// token gets a bearer token for a service account from srv, validating
// the exchange.
func (e *openapiEnv) token(t *testing.T, d *ownDoc, srv *httptest.Server, client [2]string) string {
	t.Helper()
	xs := sendForm(t, srv, "/api/oauth/token", "grant_type=client_credentials", client)
	x := xs[len(xs)-1]
	if v := d.judge(x); x.status != 200 || v.op != "createAccessToken" || v.params != nil || v.authErr != nil || v.resErr != nil {
		t.Fatalf("token: %d %s: %+v", x.status, x.body, v)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(x.body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token body %s: %v", x.body, err)
	}
	return tok.AccessToken
}

// sendForm posts a form to a token endpoint with Basic client credentials
// (none when client is zero).
func sendForm(t *testing.T, srv *httptest.Server, path, form string, client [2]string, headers ...string) []exchange {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client[0] != "" {
		req.SetBasicAuth(url.QueryEscape(client[0]), url.QueryEscape(client[1]))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := &recorder{}
	res, err := (&http.Client{Transport: rec}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return rec.xs
}

// send makes one API request as w with creds and returns every exchange
// it took (two for Digest: the challenge, then the answer).
func send(t *testing.T, srv *httptest.Server, creds credentials, w who, method, path string, headers ...string) []exchange {
	t.Helper()
	return sendBody(t, srv, creds, w, method, path, "", headers...)
}

// sendBody is send with a request body (none when body is empty).
func sendBody(t *testing.T, srv *httptest.Server, creds credentials, w who, method, path, body string, headers ...string) []exchange {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := &recorder{}
	var rt http.RoundTripper = rec
	switch {
	case w == nobody:
	case creds.kind == "digest":
		u := creds.users[w]
		rt = digest.NewTransportWithHTTPRoundTripper(u[0], u[1], rec)
	default:
		req.Header.Set("Authorization", "Bearer "+creds.tokens[w])
	}
	res, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return rec.xs
}

// apiCase is one request of TestOpenAPIConformance.
type apiCase struct {
	name    string
	method  string // GET when empty
	path    string
	headers []string
	who     who
	status  int
	code    string // the errorCode, for ApiError answers
	// badRequest: the request breaks the document's own rules (a
	// parameter or body outside its schema), so the document must reject
	// it too.
	badRequest bool
	// body is the request body, sent as application/json unless headers
	// name another Content-Type or noContentType is set.
	body          string
	noContentType bool
	// mention is a string the error's detail must contain.
	mention string
}

// coverage records, per operation, the statuses validated.
type coverage struct {
	mu   sync.Mutex
	seen map[string]map[int]bool
}

func (c *coverage) add(op string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][status] = true
}

// check validates the exchanges of one case: every Digest challenge leg,
// then the final answer against the case's expectations.
func (d *ownDoc) check(t *testing.T, cov *coverage, tc apiCase, xs []exchange) {
	t.Helper()
	if len(xs) == 0 {
		t.Fatal("no exchange")
	}
	for i, x := range xs {
		v := d.judge(x)
		last := i == len(xs)-1
		if v.resErr != nil {
			t.Errorf("response does not match the document\nrequest:  %s %s\nresponse: %d %s\n%s\nvalidator: %v",
				x.req.Method, clip(x.req.URL.RequestURI(), 200), x.status, x.header.Get("Content-Type"), clip(string(x.body), 1500), v.resErr)
		}
		// A request without the credentials the document asks for is
		// answered with the challenge, unless it is over a size limit,
		// which is checked first.
		if v.authErr != nil && x.status != 401 && x.status != 414 && x.status != 431 {
			t.Errorf("%s: request lacks the document's credentials (%v) yet got %d", tc.name, v.authErr, x.status)
		}
		if v.authErr != nil && x.status == 401 && x.header.Get("Www-Authenticate") == "" {
			t.Errorf("%s: 401 without a challenge", tc.name)
		}
		if v.op != "" && v.resErr == nil {
			cov.add(v.op, x.status)
		}
		if !last {
			// Only the Digest client's first leg comes before the answer.
			if x.status != 401 || v.authErr == nil {
				t.Errorf("%s: leg %d: %d (credentials error %v), want the challenge", tc.name, i, x.status, v.authErr)
			}
			continue
		}
		if x.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, x.status, tc.status, clip(string(x.body), 500))
		}
		if tc.code != "" {
			var e apiError
			if err := json.Unmarshal(x.body, &e); err != nil || e.ErrorCode != tc.code {
				t.Errorf("%s: errorCode %q, want %q", tc.name, e.ErrorCode, tc.code)
			}
			if !strings.Contains(e.Detail, tc.mention) {
				t.Errorf("%s: detail %q does not mention %q", tc.name, e.Detail, tc.mention)
			}
		}
		if tc.badRequest && v.params == nil {
			t.Errorf("%s: the document accepts a request the case breaks it with", tc.name)
		}
		if !tc.badRequest && v.params != nil {
			t.Errorf("%s: the document rejects the request: %v", tc.name, v.params)
		}
	}
}

// surfaceSample is one API generation as the cases see it.
type surfaceSample struct {
	name, groups, checkpoints string
	byID                      bool
	// accept is the Accept header of each resource on v2 ("" elsewhere).
	accept, clustersAccept string
}

var sampleSurfaces = []surfaceSample{
	{name: "v2", groups: "/api/atlas/v2/groups", checkpoints: "backupCheckpoints", accept: v2Accept, clustersAccept: "application/vnd.atlas.2024-08-05+json"},
	{name: "v1.0", groups: "/api/atlas/v1.0/groups", checkpoints: "backupCheckpoints"},
	{name: "cm", groups: "/api/public/v1.0/groups", checkpoints: "checkpoints", byID: true},
}

// apiCases are the requests made of every public API operation with
// credentials of one kind.
func (e *openapiEnv) apiCases() []apiCase {
	var cs []apiCase
	clusterSeg := func(s surfaceSample, c backup.Cluster) string {
		if s.byID {
			return c.ID.Hex()
		}
		return c.Name
	}
	cluster0 := e.ds.Clusters[0]
	for _, s := range sampleSurfaces {
		g := s.groups + "/" + groupHex
		c := g + "/clusters/" + clusterSeg(s, cluster0)
		cps := c + "/" + s.checkpoints
		one := cps + "/" + e.ds.Sample["Cluster0"].Hex()
		type res struct {
			path         string
			accept       string
			list         bool
			group        bool // has {groupId}
			cluster      bool // has a cluster segment
			checkpoints  bool // a checkpoint operation
			checkpointID bool
			restoreJobs  bool // a restore job operation
			jobID        bool
		}
		jobs := c + "/restoreJobs"
		for _, r := range []res{
			{path: jobs, accept: s.accept, list: true, group: true, cluster: true, restoreJobs: true},
			{path: jobs + "/" + e.restores.job0.Hex(), accept: s.accept, group: true, cluster: true, restoreJobs: true, jobID: true},
			{path: s.groups, accept: s.accept, list: true},
			{path: g, accept: s.accept, group: true},
			{path: g + "/clusters", accept: s.clustersAccept, list: true, group: true},
			{path: c, accept: s.clustersAccept, group: true, cluster: true},
			{path: cps, accept: s.accept, list: true, group: true, cluster: true, checkpoints: true},
			{path: one, accept: s.accept, group: true, cluster: true, checkpoints: true, checkpointID: true},
		} {
			var hdr []string
			if r.accept != "" {
				hdr = []string{"Accept", r.accept}
			}
			name := s.name + " " + strings.TrimPrefix(r.path, s.groups)
			add := func(tc apiCase) {
				tc.name = name + ": " + tc.name
				if tc.path == "" {
					tc.path = r.path
				}
				tc.headers = append(slices.Clone(hdr), tc.headers...)
				cs = append(cs, tc)
			}
			add(apiCase{name: "ok", status: 200})
			add(apiCase{name: "HEAD", method: http.MethodHead, status: 200})
			add(apiCase{name: "pretty", path: r.path + "?pretty=true", status: 200})
			add(apiCase{name: "envelope", path: r.path + "?envelope=true", status: 200})
			add(apiCase{name: "envelope pretty", path: r.path + "?envelope=TRUE&pretty=true", status: 200})
			add(apiCase{name: "bad pretty", path: r.path + "?pretty=maybe", status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true})
			add(apiCase{name: "no credentials", who: nobody, status: 401})
			add(apiCase{name: "outside the access list", who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"})
			add(apiCase{name: "URI too long", path: r.path + "?x=" + strings.Repeat("a", 9000), status: 414, code: "REQUEST_TOO_LARGE"})
			add(apiCase{name: "headers too large", headers: []string{"X-Big", strings.Repeat("b", 40000)}, status: 431, code: "REQUEST_TOO_LARGE"})
			if s.accept != "" {
				cs = append(cs, apiCase{name: name + ": plain JSON", path: r.path, headers: []string{"Accept", "application/json"}, status: 406, code: "INVALID_VERSION_DATE"})
				cs = append(cs, apiCase{name: name + ": no Accept", path: r.path, status: 406, code: "INVALID_VERSION_DATE"})
			}
			if r.list {
				add(apiCase{name: "page 2 uncounted", path: r.path + "?pageNum=2&itemsPerPage=1&includeCount=false", status: 200})
				add(apiCase{name: "past the end", path: r.path + "?pageNum=99&itemsPerPage=500", status: 200})
				add(apiCase{name: "negative page", path: r.path + "?pageNum=-1", status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true})
				add(apiCase{name: "page size not a number", path: r.path + "?itemsPerPage=ten", status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true})
				add(apiCase{name: "count not a boolean", path: r.path + "?includeCount=yes", status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true})
			}
			if !r.group {
				add(apiCase{name: "member sees no project", who: member, status: 200})
				continue
			}
			sub := strings.TrimPrefix(r.path, g)
			add(apiCase{name: "member", who: member, status: 401, code: "USER_UNAUTHORIZED"})
			add(apiCase{name: "unknown project", path: s.groups + "/111111111111111111111111" + sub, status: 404, code: "GROUP_NOT_FOUND"})
			add(apiCase{name: "another organization's project", path: s.groups + "/" + e.other.ID.Hex() + sub, status: 404, code: "GROUP_NOT_FOUND"})
			add(apiCase{name: "malformed project id", path: s.groups + "/zzz" + sub, status: 404, code: "INVALID_GROUP_ID", badRequest: true})
			if r.path == g+"/clusters" {
				add(apiCase{name: "deleted clusters flag", path: r.path + "?includeDeletedWithRetainedBackups=true", status: 200})
				add(apiCase{name: "deleted clusters flag malformed", path: r.path + "?includeDeletedWithRetainedBackups=2", status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true})
			}
			if !r.cluster {
				continue
			}
			rest := strings.TrimPrefix(r.path, c)
			if s.byID {
				add(apiCase{name: "unknown cluster", path: g + "/clusters/6a00000000000000000000ff" + rest, status: 404, code: "CLUSTER_NOT_FOUND"})
				add(apiCase{name: "malformed cluster id", path: g + "/clusters/Cluster0" + rest, status: 404, code: "INVALID_CLUSTER_ID", badRequest: true})
			} else {
				add(apiCase{name: "unknown cluster", path: g + "/clusters/Nope" + rest, status: 404, code: "CLUSTER_NOT_FOUND"})
				add(apiCase{name: "impossible cluster name", path: g + "/clusters/-x" + rest, status: 404, code: "CLUSTER_NOT_FOUND", badRequest: true})
			}
			if r.path == c && s.clustersAccept != "" {
				for _, v := range []string{"2023-01-01", "2023-02-01", "2024-08-05", "2025-03-12"} {
					cs = append(cs, apiCase{name: name + ": version " + v, path: r.path, headers: []string{"Accept", "application/vnd.atlas." + v + "+json"}, status: 200})
					cs = append(cs, apiCase{name: name + ": list at version " + v, path: g + "/clusters", headers: []string{"Accept", "application/vnd.atlas." + v + "+json"}, status: 200})
				}
			}
			if r.checkpoints {
				add(apiCase{name: "cluster on Cloud Backup", path: g + "/clusters/" + clusterSeg(s, e.cloud) + rest, status: 400, code: "CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP"})
				for _, cl := range e.ds.Clusters[1:] { // a replica set; mirrored config servers
					add(apiCase{name: "cluster " + cl.Name, path: g + "/clusters/" + clusterSeg(s, cl) + "/" + s.checkpoints + "?itemsPerPage=500", status: 200})
				}
			}
			if r.restoreJobs {
				add(apiCase{name: "cluster on Cloud Backup", path: g + "/clusters/" + clusterSeg(s, e.cloud) + rest, status: 400, code: "CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP"})
			}
			if r.restoreJobs && r.list {
				add(apiCase{name: "one batch", path: r.path + "?batchId=" + e.restores.batch0.Hex(), status: 200})
				add(apiCase{name: "malformed batch id", path: r.path + "?batchId=xyz", status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true})
			}
			if r.jobID {
				add(apiCase{name: "unknown job", path: jobs + "/5a7cdb3980eef53de5bffdce", status: 404, code: "RESTORE_JOB_NOT_FOUND"})
				add(apiCase{name: "malformed job id", path: jobs + "/xyz", status: 404, code: "INVALID_JOB_ID", badRequest: true})
			}
			if r.checkpointID {
				add(apiCase{name: "unknown checkpoint", path: cps + "/5a7cdb3980eef53de5bffdce", status: 404, code: "CHECKPOINT_NOT_FOUND"})
				add(apiCase{name: "malformed checkpoint id", path: cps + "/xyz", status: 404, code: "INVALID_CHECKPOINT_ID", badRequest: true})
				for _, cl := range e.ds.Clusters[1:] {
					add(apiCase{name: "checkpoint of " + cl.Name, path: g + "/clusters/" + clusterSeg(s, cl) + "/" + s.checkpoints + "/" + e.ds.Sample[cl.Name].Hex(), status: 200})
				}
			}
		}
	}
	// The probes and the document need no credentials, and ignore any.
	for _, p := range []struct {
		path string
		w    who
	}{{"/healthz", nobody}, {"/healthz", reader}, {"/readyz", nobody}, {"/readyz", reader},
		{"/api/checkpointd/v1/openapi.yaml", nobody}, {"/api/checkpointd/v1/openapi.json", nobody}, {"/api/checkpointd/v1/openapi.json", reader}} {
		cs = append(cs, apiCase{name: p.path, path: p.path, who: p.w, status: 200},
			apiCase{name: p.path + " HEAD", method: http.MethodHead, path: p.path, who: p.w, status: 200})
	}
	for _, p := range []string{"/api/checkpointd/v1/openapi.yaml", "/api/checkpointd/v1/openapi.json"} {
		cs = append(cs, apiCase{name: p + " URI too long", path: p + "?x=" + strings.Repeat("a", 9000), who: nobody, status: 414, code: "REQUEST_TOO_LARGE"},
			apiCase{name: p + " headers too large", path: p, headers: []string{"X-Big", strings.Repeat("b", 40000)}, who: nobody, status: 431, code: "REQUEST_TOO_LARGE"})
	}
	return cs
}

// TestOpenAPIConformance validates real responses of every operation
// against checkpointd's document.
func TestOpenAPIConformance(t *testing.T) {
	d := mustOwnDoc(t)
	e := newOpenAPIEnv(t)
	cov := &coverage{seen: map[string]map[int]bool{}}
	for _, w := range []who{reader, member, outsider, owner, backupManager} {
		e.sas.tokens[w] = e.token(t, d, e.srv, e.saSecrets[w])
	}
	for _, creds := range []credentials{e.keys, e.sas} {
		t.Run(creds.kind, func(t *testing.T) {
			for _, tc := range e.apiCases() {
				method := tc.method
				if method == "" {
					method = http.MethodGet
				}
				d.check(t, cov, tc, send(t, e.srv, creds, tc.who, method, tc.path, tc.headers...))
			}
			for _, tc := range e.adminCases(t, creds.kind) {
				d.check(t, cov, tc, sendCase(t, e.srv, creds, tc))
			}
			for _, tc := range e.workflowCases(t, creds.kind) {
				d.check(t, cov, tc, sendCase(t, e.srv, creds, tc))
			}
			for _, tc := range e.restoreCases(creds.kind) {
				d.check(t, cov, tc, sendCase(t, e.srv, creds, tc))
			}
			for _, tc := range e.slotCases(creds.kind) {
				d.check(t, cov, tc, sendCase(t, e.srv, creds, tc))
			}
			for _, tc := range e.objectiveCases() {
				d.check(t, cov, tc, sendCase(t, e.srv, creds, tc))
			}
		})
	}

	t.Run("rate limited", func(t *testing.T) {
		// One request per caller per hour: the first is served, every
		// later one is 429.
		creds := credentials{kind: "bearer", tokens: map[who]string{reader: e.token(t, d, e.limited, e.limitedSA)}}
		first := true
		for _, tc := range e.apiCases() {
			if tc.who != reader || tc.method != "" || tc.status != 200 || !strings.HasPrefix(tc.path, "/api/") || strings.HasPrefix(tc.path, "/api/checkpointd/") {
				continue
			}
			tc.status, tc.code = 429, "RATE_LIMITED"
			if first {
				tc.status, tc.code, first = 200, "", false
			}
			d.check(t, cov, tc, send(t, e.limited, creds, reader, http.MethodGet, tc.path, tc.headers...))
		}
		// The token endpoint's own limit, per client address and id: the
		// token above spent it.
		xs := sendForm(t, e.limited, "/api/oauth/token", "grant_type=client_credentials", e.limitedSA)
		d.check(t, cov, apiCase{name: "token rate limited", status: 429, code: "RATE_LIMITED"}, xs)
		xs = sendForm(t, e.limited, "/api/oauth/revoke", "token=x", e.limitedSA)
		d.check(t, cov, apiCase{name: "revoke rate limited", status: 429, code: "RATE_LIMITED"}, xs)
	})

	t.Run("admin rate limited", func(t *testing.T) {
		// The administration API spends the same allowance: after the
		// first request, every operation is 429 before anything else is
		// looked at (the cluster named does not exist).
		creds := credentials{kind: "bearer", tokens: map[who]string{owner: e.token(t, d, e.limited, e.limitedOwner)}}
		cl := "/api/checkpointd/v1/groups/" + groupHex + "/clusters"
		ids := backup.NewIDSourceFrom([5]byte{7, 7, 7, 7, 'r'}, 1)
		rep := agentReport(t, ids, time.Now().UTC().Truncate(time.Minute).Add(-time.Hour), []reportPart{{"REPLICA_SET", "", "rs", ""}}, nil)
		for i, tc := range append([]apiCase{
			{name: "first", path: cl},
			{name: "list", path: cl},
			{name: "create", method: http.MethodPost, path: cl, body: `{"name":"Limited","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"rs"}`},
			{name: "get", path: cl + "/Nope"},
			{name: "update", method: http.MethodPatch, path: cl + "/Nope", body: `{}`},
			{name: "v2 by name", path: "/api/atlas/v2/groups/byName/x"},
			{name: "v1.0 by name", path: "/api/atlas/v1.0/groups/byName/x"},
			{name: "cm by name", path: "/api/public/v1.0/groups/byName/x"},
			{name: "v2 schedule", path: "/api/atlas/v2/groups/" + groupHex + "/clusters/Nope/snapshotSchedule"},
			{name: "v2 schedule update", method: http.MethodPatch, path: "/api/atlas/v2/groups/" + groupHex + "/clusters/Nope/snapshotSchedule", body: `{}`},
			{name: "v1.0 schedule", path: "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Nope/snapshotSchedule"},
			{name: "v1.0 schedule update", method: http.MethodPatch, path: "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Nope/snapshotSchedule", body: `{}`},
			{name: "cm schedule", path: "/api/public/v1.0/groups/" + groupHex + "/backupConfigs/6a00000000000000000000ff/snapshotSchedule"},
			{name: "cm schedule update", method: http.MethodPatch, path: "/api/public/v1.0/groups/" + groupHex + "/backupConfigs/6a00000000000000000000ff/snapshotSchedule", body: `{}`},
			{name: "cm backup configs", path: "/api/public/v1.0/groups/" + groupHex + "/backupConfigs"},
			{name: "cm backup config", path: "/api/public/v1.0/groups/" + groupHex + "/backupConfigs/6a00000000000000000000ff"},
			{name: "cm backup config update", method: http.MethodPatch, path: "/api/public/v1.0/groups/" + groupHex + "/backupConfigs/6a00000000000000000000ff", body: `{}`},
			{name: "delete", method: http.MethodDelete, path: cl + "/Nope"},
			{name: "report", method: http.MethodPost, path: cl + "/Nope/checkpoints", body: rep},
			{name: "claim", method: http.MethodPost, path: cl + "/Nope/slots", body: `{"slot":"2026-01-02T15:00:00Z","owner":"a"}`},
		}, append(append(e.restoreRateLimitedCases(), e.slotRateLimitedCases()...),
			apiCase{name: "objective", path: cl + "/Cluster0/rpo"})...) {
			tc.who, tc.status, tc.code = owner, http.StatusTooManyRequests, "RATE_LIMITED"
			if i == 0 {
				tc.status, tc.code = http.StatusOK, ""
			}
			d.check(t, cov, tc, sendCase(t, e.limited, creds, tc))
		}
	})

	t.Run("token endpoints", func(t *testing.T) {
		good := e.saSecrets[reader]
		wrong := [2]string{good[0], "mdb_sa_sk_" + strings.Repeat("x", 40)}
		tok := e.token(t, d, e.srv, good)
		for _, tc := range []struct {
			apiCase
			path, form string
			client     [2]string
			headers    []string
		}{
			{apiCase{name: "token", status: 200}, "/api/oauth/token", "grant_type=client_credentials", good, nil},
			{apiCase{name: "token with credentials in the body", status: 200}, "/api/oauth/token",
				"grant_type=client_credentials&client_id=" + url.QueryEscape(good[0]) + "&client_secret=" + url.QueryEscape(good[1]), [2]string{}, nil},
			{apiCase{name: "token: other grant", status: 400, badRequest: true}, "/api/oauth/token", "grant_type=password", good, nil},
			{apiCase{name: "token: no grant", status: 400, badRequest: true}, "/api/oauth/token", "scope=x", good, nil},
			{apiCase{name: "token: wrong secret", status: 401}, "/api/oauth/token", "grant_type=client_credentials", wrong, nil},
			{apiCase{name: "token: URI too long", status: 414, code: "REQUEST_TOO_LARGE"}, "/api/oauth/token?x=" + strings.Repeat("a", 9000), "grant_type=client_credentials", good, nil},
			{apiCase{name: "token: headers too large", status: 431, code: "REQUEST_TOO_LARGE"}, "/api/oauth/token", "grant_type=client_credentials", good, []string{"X-Big", strings.Repeat("b", 40000)}},
			{apiCase{name: "revoke", status: 200}, "/api/oauth/revoke", "token=" + tok + "&token_type_hint=access_token", good, nil},
			{apiCase{name: "revoke: no token", status: 400, badRequest: true}, "/api/oauth/revoke", "token_type_hint=access_token", good, nil},
			{apiCase{name: "revoke: wrong secret", status: 401}, "/api/oauth/revoke", "token=" + tok, wrong, nil},
			{apiCase{name: "revoke: URI too long", status: 414, code: "REQUEST_TOO_LARGE"}, "/api/oauth/revoke?x=" + strings.Repeat("a", 9000), "token=" + tok, good, nil},
			{apiCase{name: "revoke: headers too large", status: 431, code: "REQUEST_TOO_LARGE"}, "/api/oauth/revoke", "token=" + tok, good, []string{"X-Big", strings.Repeat("b", 40000)}},
		} {
			d.check(t, cov, tc.apiCase, sendForm(t, e.srv, tc.path, tc.form, tc.client, tc.headers...))
		}
		// The revoked token is refused with the challenge.
		revoked := credentials{kind: "bearer", tokens: map[who]string{reader: tok}}
		d.check(t, cov, apiCase{name: "revoked token", status: 401}, send(t, e.srv, revoked, reader, http.MethodGet, "/api/atlas/v1.0/groups"))
	})

	t.Run("store down", func(t *testing.T) {
		f := mustServe(t, httpapi.Config{})
		f.db.Close()
		d.check(t, cov, apiCase{name: "readyz", who: nobody, status: 503, code: "SERVICE_UNAVAILABLE"}, send(t, f.srv, credentials{}, nobody, http.MethodGet, "/readyz"))
	})

	// Every status the document lists for an operation was seen and
	// validated (500 cannot be provoked from outside).
	pending := map[string]bool{}
	for _, p := range pendingAdminPaths {
		pending[p] = true
	}
	for path, item := range d.doc.Paths.Map() {
		if pending[path] {
			continue
		}
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				var status int
				if _, err := fmt.Sscan(code, &status); err != nil || status == 500 {
					continue
				}
				if !cov.seen[op.OperationID][status] {
					t.Errorf("%s %s (%s): documented status %d never seen in a valid response", method, path, op.OperationID, status)
				}
			}
		}
	}
}

// TestOpenAPIValidatorCatchesMismatches feeds the validator doctored
// copies of real exchanges, so that a validator that accepts everything
// cannot pass for a working one.
func TestOpenAPIValidatorCatchesMismatches(t *testing.T) {
	d := mustOwnDoc(t)
	f := mustServe(t, httpapi.Config{})
	get := func(path string, hdr ...string) exchange {
		t.Helper()
		xs := send(t, f.srv, credentials{}, nobody, http.MethodGet, path, hdr...)
		return xs[len(xs)-1]
	}
	cp := get(v2Cluster+"/backupCheckpoints/"+f.ds.Sample["Cluster0"].Hex(), "Accept", v2Accept)
	cm := get(cmCluster(f, "LegacyCluster")+"/checkpoints?itemsPerPage=1", "Accept", v2Accept)
	notFound := get("/api/atlas/v1.0/groups/111111111111111111111111")
	for _, x := range []exchange{cp, cm, notFound} {
		if v := d.judge(x); v.resErr != nil {
			t.Fatalf("the untouched %s %d does not validate: %v", x.req.URL.Path, x.status, v.resErr)
		}
	}
	doctor := func(x exchange, old, new string) exchange {
		t.Helper()
		if !bytes.Contains(x.body, []byte(old)) {
			t.Fatalf("%q not in %s", old, x.body)
		}
		x.body = bytes.Replace(x.body, []byte(old), []byte(new), 1)
		return x
	}
	withHeader := func(x exchange, k, v string) exchange {
		x.header = x.header.Clone()
		if v == "" {
			x.header.Del(k)
		} else {
			x.header.Set(k, v)
		}
		return x
	}
	for _, tt := range []struct {
		name string
		x    exchange
		want string
	}{
		{"undocumented field", doctor(cp, `"restorable":`, `"secret":1,"restorable":`), "secret"},
		{"hostId on an Atlas part", doctor(cp, `"tokenDiscovered":`, `"hostId":"h","tokenDiscovered":`), "hostId"},
		{"unknown part type", doctor(cp, `"typeName":"REPLICA_SET"`, `"typeName":"SHARD"`), "typeName"},
		{"increment 0", doctor(cm, `"increment":`, `"increment":0,"x":`), "increment"},
		{"id not hex", doctor(cp, `"id":"`, `"id":"X`), "id"},
		{"list without totalCount", doctor(cm, `"totalCount"`, `"total"`), "totalCount"},
		{"error without errorCode", doctor(notFound, `"errorCode"`, `"code"`), "errorCode"},
		{"error parameter an object", doctor(notFound, `"parameters":[`, `"parameters":[{},`), "parameters"},
		{"wrong media type", withHeader(cp, "Content-Type", "application/json"), "Content-Type"},
		{"no Deprecation on a deprecated operation", withHeader(cp, "Deprecation", ""), "Deprecation"},
		{"no request id", withHeader(notFound, "X-Request-Id", ""), "X-Request-Id"},
		{"undocumented status", func() exchange { x := cp; x.status = 201; return x }(), "status is not supported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := d.judge(tt.x)
			if v.resErr == nil {
				t.Fatalf("accepted %d %s", tt.x.status, clip(string(tt.x.body), 500))
			}
			if !strings.Contains(v.resErr.Error(), tt.want) {
				t.Errorf("the validator's message does not mention %q: %v", tt.want, v.resErr)
			}
		})
	}
}

// pathParam matches a path template's parameter, e.g. {groupId}, or a
// net/http wildcard, e.g. {cluster} or {rest...}.
var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// shape is a path with its parameter names erased: the server's patterns
// and the document may name parameters differently.
func shape(p string) string { return pathParam.ReplaceAllString(p, "{}") }

// TestOpenAPIRoutes holds the server's route table against the
// document's operations, both ways: every row's method and path is
// documented (GET with HEAD), and every documented operation is a row.
func TestOpenAPIRoutes(t *testing.T) {
	d := mustOwnDoc(t)
	// With the token endpoints: every route the server can have.
	srv := httpapi.New(httpapi.Config{OAuth: stubOAuth{}, Admin: stubAdmin{}, ClusterAdmin: stubAdmin{}}, nil)
	routed := map[string]string{} // "METHOD shape" → "METHOD pattern"
	sawCatchAll := false
	for _, rt := range srv.Routes() {
		switch {
		case rt.Pattern == catchAll:
			sawCatchAll = true
			continue
		case rt.Operation == "":
			continue // a pattern's answer to the methods it does not have
		case !strings.HasPrefix(rt.Pattern, "/"):
			t.Errorf("pattern %q: only paths are expected (no host patterns)", rt.Pattern)
			continue
		}
		routed[rt.Method+" "+shape(rt.Pattern)] = rt.Method + " " + rt.Pattern
	}
	if !sawCatchAll {
		t.Errorf("no catch-all route %q; the document says unknown paths are 404 RESOURCE_NOT_FOUND", catchAll)
	}
	pending := map[string]bool{}
	for _, p := range pendingAdminPaths {
		pending[shape(p)] = true
		if d.doc.Paths.Value(p) == nil {
			t.Errorf("pendingAdminPaths names %s, which the document does not have", p)
		}
	}
	documented := map[string]string{}
	for path, item := range d.doc.Paths.Map() {
		for m := range item.Operations() {
			if m != http.MethodHead {
				documented[m+" "+shape(path)] = m + " " + path
			}
		}
	}
	for k, p := range routed {
		_, s, _ := strings.Cut(k, " ")
		switch {
		case documented[k] == "":
			t.Errorf("the server routes %s, which the document does not describe", p)
		case pending[s]:
			t.Errorf("the server routes %s: remove it from pendingAdminPaths", p)
		}
	}
	for k, p := range documented {
		_, s, _ := strings.Cut(k, " ")
		if routed[k] == "" && !pending[s] {
			t.Errorf("the document describes %s, which the server does not route", p)
		}
	}
	if len(routed) < 20 {
		t.Errorf("only %d routes listed: %v", len(routed), srv.Routes())
	}
}

// stubAdmin stands in for the administration API's store where only its
// routes matter; any call would panic.
type stubAdmin struct {
	httpapi.AdminStore
	httpapi.ClusterAdmin
}

// stubOAuth stands in for the token endpoints where only their routes
// matter.
type stubOAuth struct{}

func (stubOAuth) Token(w http.ResponseWriter, r *http.Request) error  { return nil }
func (stubOAuth) Revoke(w http.ResponseWriter, r *http.Request) error { return nil }

// TestOpenAPIMethods sends every method to every routed documented path:
// the documented ones (and HEAD beside GET) are served, any other is 405
// in the API's format with an Allow header.
func TestOpenAPIMethods(t *testing.T) {
	d := mustOwnDoc(t)
	e := newOpenAPIEnv(t)
	e.sas.tokens[reader] = e.token(t, d, e.srv, e.saSecrets[reader])
	pending := map[string]bool{}
	for _, p := range pendingAdminPaths {
		pending[p] = true
	}
	fill := strings.NewReplacer(
		"{groupId}", groupHex,
		"{clusterName}", "Cluster0",
		"{clusterId}", e.ds.Clusters[0].ID.Hex(),
		"{groupName}", e.ds.Project.Name,
		"{checkpointId}", e.ds.Sample["Cluster0"].Hex(),
		"{jobId}", e.restores.job0.Hex(),
		"{slot}", e.slots.slots[0].Format(time.RFC3339))
	paths := d.doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		if pending[p] {
			continue
		}
		item := d.doc.Paths.Value(p)
		allowed := map[string]bool{}
		for m := range item.Operations() {
			allowed[m] = true
		}
		if allowed[http.MethodGet] {
			allowed[http.MethodHead] = true
		}
		path := fill.Replace(p)
		if strings.Contains(path, "{") {
			t.Errorf("%s: no sample value for a parameter", p)
			continue
		}
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			xs := send(t, e.srv, e.sas, reader, m, path, "Accept", "application/vnd.atlas.2024-08-05+json", "Content-Type", "application/x-www-form-urlencoded")
			x := xs[len(xs)-1]
			v := d.judge(x)
			if v.resErr != nil {
				t.Errorf("%s %s: %d %s: %v", m, p, x.status, clip(string(x.body), 300), v.resErr)
			}
			switch {
			case allowed[m] && x.status == http.StatusMethodNotAllowed:
				t.Errorf("%s %s: 405, but the document has the operation", m, p)
			case !allowed[m] && x.status != http.StatusMethodNotAllowed:
				t.Errorf("%s %s: %d, but the document has no such operation (want 405)", m, p, x.status)
			case !allowed[m] && x.header.Get("Allow") == "":
				t.Errorf("%s %s: 405 without Allow", m, p)
			case !allowed[m]:
				for _, a := range strings.Split(x.header.Get("Allow"), ", ") {
					if !allowed[a] {
						t.Errorf("%s %s: Allow %q names %s, which the document does not have", m, p, x.header.Get("Allow"), a)
					}
				}
			}
		}
	}
}

// TestOpenAPIServed fetches the document without credentials, in both
// forms, and checks they are the server's version of the same valid
// document.
func TestOpenAPIServed(t *testing.T) {
	e := newOpenAPIEnv(t)
	fetch := func(path string) exchange {
		t.Helper()
		xs := send(t, e.srv, credentials{}, nobody, http.MethodGet, path)
		x := xs[len(xs)-1]
		if x.status != 200 {
			t.Fatalf("%s: %d %s", path, x.status, clip(string(x.body), 300))
		}
		return x
	}
	y := fetch("/api/checkpointd/v1/openapi.yaml")
	j := fetch("/api/checkpointd/v1/openapi.json")
	if ct := y.header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("YAML Content-Type %q", ct)
	}
	if ct := j.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("JSON Content-Type %q", ct)
	}
	wantY, wantJ := openapi.Documents("v-openapi-test")
	if !bytes.Equal(y.body, wantY) || !bytes.Equal(j.body, wantJ) {
		t.Error("the served documents are not the embedded ones with the server's version")
	}
	// The same data in both forms.
	var yv, jv any
	if err := yaml.Unmarshal(y.body, &yv); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	b, err := json.Marshal(yv)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &yv); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j.body, &jv); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if !equalJSON(yv, jv) {
		t.Error("the YAML and JSON documents differ")
	}
	for name, src := range map[string][]byte{"yaml": y.body, "json": j.body} {
		doc, err := openapi3.NewLoader().LoadFromData(src)
		if err != nil {
			t.Fatalf("%s: loading: %v", name, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if doc.Info.Version != "v-openapi-test" {
			t.Errorf("%s: info.version %q, want the server's version", name, doc.Info.Version)
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
