package httpapi_test

// Every response the httpapi tests receive is checked against MongoDB's
// published OpenAPI description of the Atlas Admin API v2: the hook in
// fixture.do calls validateAgainstSpec after each request. The spec is a
// data file outside the module (see ../../../shared/spec/README.txt); it is
// read, never copied.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
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

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// specPath is the spec relative to this package's directory, where go test
// runs the test binary.
const specPath = "../../../shared/spec/atlas-api.yaml"

// requireSpecEnv, set to 1 (as CI does), turns a missing spec file from a
// logged skip into a test failure.
const requireSpecEnv = "CHECKPOINTD_REQUIRE_SPEC"

// The spec quirk this file works around: see relaxIncrementQuirk.
const (
	quirkSchema   = "ApiBSONTimestampView"
	quirkProperty = "increment"
	quirkMinimum  = 1199145600
)

// apiSpec is the loaded spec and what the validator needs from it.
type apiSpec struct {
	doc      *openapi3.T
	router   routers.Router
	apiError *openapi3.SchemaRef // components.schemas.ApiError

	// increment is ApiBSONTimestampView.properties.increment and
	// quirkMin the minimum the file gives it (nil if the file no longer
	// has one), kept for TestSpecIncrementQuirk.
	increment *openapi3.Schema
	quirkMin  *float64
	// paramsItemsAsPublished is ApiError.parameters.items before
	// relaxParametersQuirk, kept for TestSpecParametersQuirk.
	paramsItemsAsPublished *openapi3.Schema

	loadTime time.Duration
	missing  string // why the spec is absent, when it is
	err      error  // the spec is present but unusable
}

var (
	specOnce sync.Once
	spec     apiSpec

	// specMu guards the increment minimum: validations read it under
	// RLock; TestSpecIncrementQuirk puts the file's value back for a
	// moment under Lock.
	specMu sync.RWMutex

	// missingReported remembers the top-level tests already told that the
	// spec is missing, so a suite of many requests says it once per test.
	missingReported sync.Map
	missingToStderr sync.Once
)

// loadSpec reads and prepares the spec once per test binary (parsing about
// 4 MB of YAML takes a few seconds).
func loadSpec() *apiSpec {
	specOnce.Do(func() {
		start := time.Now()
		if _, err := os.Stat(specPath); errors.Is(err, fs.ErrNotExist) {
			abs, _ := os.Getwd()
			spec.missing = fmt.Sprintf("OpenAPI spec %s not found (from %s); responses are not validated against the Atlas API spec", specPath, abs)
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(specPath)
		if err != nil {
			spec.err = fmt.Errorf("loading %s: %w", specPath, err)
			return
		}
		if err := prepareSpec(&spec, doc); err != nil {
			spec.err = fmt.Errorf("%s: %w", specPath, err)
			return
		}
		spec.loadTime = time.Since(start)
	})
	return &spec
}

// prepareSpec relaxes the known quirk and builds the router.
func prepareSpec(s *apiSpec, doc *openapi3.T) error {
	s.doc = doc
	if doc.Components == nil || doc.Components.Schemas["ApiError"] == nil {
		return errors.New("no components.schemas.ApiError")
	}
	s.apiError = doc.Components.Schemas["ApiError"]
	if err := relaxIncrementQuirk(s); err != nil {
		return err
	}
	if err := relaxParametersQuirk(s); err != nil {
		return err
	}
	if err := relaxIntervalRequired(doc); err != nil {
		return err
	}
	// The spec's only server is https://cloud.mongodb.com; the tests talk
	// to httptest servers on 127.0.0.1 with a different port each. With no
	// servers the gorillamux router matches on the path alone, any scheme
	// and host, which is what we want. (The spec is not Validate()d: the
	// router does not need it and the validator reads only the two
	// operations, ApiError and the schemas they reference.)
	doc.Servers = nil
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return fmt.Errorf("building the router: %w", err)
	}
	s.router = r
	return nil
}

// relaxIncrementQuirk removes a mistake in the spec before anything is
// validated against it.
//
// components.schemas.ApiBSONTimestampView.properties.increment (the
// ordinal of an oplog entry within its second, tokenTimestamp.increment of
// a checkpoint part) is declared format int32 with minimum 1199145600 and
// the same number as its example: a Unix time (2008-01-01T00:00:00Z)
// copied from the sibling date field by mistake. Real increments are 1, 2,
// …, so every real tokenTimestamp would be rejected. The minimum is
// dropped here; the int32 format and everything else stay.
// TestSpecIncrementQuirk proves the relaxation is needed, using a real
// response.
func relaxIncrementQuirk(s *apiSpec) error {
	ts := s.doc.Components.Schemas[quirkSchema]
	if ts == nil || ts.Value == nil || ts.Value.Properties[quirkProperty] == nil || ts.Value.Properties[quirkProperty].Value == nil {
		return fmt.Errorf("no components.schemas.%s.properties.%s", quirkSchema, quirkProperty)
	}
	// $refs to the schema share this *Schema, so changing it here changes
	// it wherever ApiBSONTimestampView is used.
	s.increment = ts.Value.Properties[quirkProperty].Value
	s.quirkMin = s.increment.Min
	s.increment.Min = nil
	return nil
}

// relaxParametersQuirk removes a second mistake: the spec declares each
// item of ApiError.parameters as an object, but parameters holds the values
// substituted into the detail message (strings such as a group id, and
// numbers such as a limit), as captured from the service:
// "parameters":["/api/oauth/token",50,1]. The items' type is dropped; the
// array itself stays required to be an array. TestSpecParametersQuirk
// proves the relaxation is needed.
func relaxParametersQuirk(s *apiSpec) error {
	p := s.apiError.Value.Properties["parameters"]
	if p == nil || p.Value == nil || p.Value.Items == nil || p.Value.Items.Value == nil {
		return errors.New("no components.schemas.ApiError.properties.parameters.items")
	}
	items := p.Value.Items.Value
	orig := *items
	s.paramsItemsAsPublished = &orig
	items.Type = nil
	return nil
}

// relaxIntervalRequired removes clusterCheckpointIntervalMin from the
// snapshot schedule's required fields. The spec requires it, with 15, 30
// and 60 as its only values, but the service leaves it out while
// checkpoints are off (Cloud Manager's samples) and so does checkpointd on
// every generation (a guess: see atlas.AppendSchedule); every other field
// stays required.
func relaxIntervalRequired(doc *openapi3.T) error {
	ref := doc.Components.Schemas["ApiAtlasSnapshotScheduleView"]
	if ref == nil || ref.Value == nil {
		return errors.New("no components.schemas.ApiAtlasSnapshotScheduleView")
	}
	req := ref.Value.Required
	i := slices.Index(req, "clusterCheckpointIntervalMin")
	if i < 0 {
		return errors.New("ApiAtlasSnapshotScheduleView no longer requires clusterCheckpointIntervalMin: remove relaxIntervalRequired")
	}
	ref.Value.Required = slices.Delete(slices.Clone(req), i, i+1)
	return nil
}

// specRequired reports whether a missing spec is a failure: in CI (which
// sets CI=true and always has ../shared beside the clone) or when asked.
func specRequired() bool {
	return os.Getenv(requireSpecEnv) == "1" || os.Getenv("CI") == "true"
}

// usableSpec returns the spec, or reports on tb why there is none: a
// failure if the spec is broken or required, a log line otherwise.
func usableSpec(tb testing.TB) (*apiSpec, bool) {
	tb.Helper()
	s := loadSpec()
	switch {
	case s.err != nil:
		tb.Errorf("OpenAPI spec unusable: %v", s.err)
		return nil, false
	case s.missing != "":
		top, _, _ := strings.Cut(tb.Name(), "/")
		if _, seen := missingReported.LoadOrStore(top, true); seen {
			return nil, false
		}
		if specRequired() {
			tb.Errorf("%s, and %s=1 requires it", s.missing, requireSpecEnv)
			return nil, false
		}
		tb.Logf("%s (set %s=1 to make this a failure)", s.missing, requireSpecEnv)
		// Also once on stderr, so that it shows without -v.
		missingToStderr.Do(func() { fmt.Fprintf(os.Stderr, "httpapi tests: %s\n", s.missing) })
		return nil, false
	}
	return s, true
}

// validateAgainstSpec checks one response of the test suite against the
// spec and fails tb on any mismatch. fixture.do calls it for every request.
func validateAgainstSpec(tb testing.TB, req *http.Request, res *http.Response, body []byte) {
	tb.Helper()
	s, ok := usableSpec(tb)
	if !ok {
		return
	}
	what, err := s.check(req, res.StatusCode, res.Header, body)
	if strings.Contains(what, "predates") {
		tb.Logf("%s %s: not validated: %s", req.Method, clip(req.URL.RequestURI(), 300), what)
	}
	if err != nil {
		tb.Errorf("response does not match the OpenAPI spec\nrequest:  %s %s\nresponse: %d %s\n%s\nvalidator: %v",
			req.Method, clip(req.URL.RequestURI(), 300), res.StatusCode, res.Header.Get("Content-Type"), clip(string(body), 2000), err)
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
}

// check validates one response and says what it was validated against.
//
//   - HEAD responses have no body: nothing is checked.
//   - A status the matched operation declares: the body must match that
//     response's content for the response's media type (kin-openapi looks
//     the media type up without its parameters, so our
//     application/vnd.atlas.2023-01-01+json;charset=utf-8 finds the spec's
//     application/vnd.atlas.2023-01-01+json).
//   - An error status the operation does not declare (405, 406, 414, 431,
//     400 on the list) or a path the spec does not have: the body must be
//     an application/json ApiError.
//   - A success on a path outside /api/atlas/v2 (the Atlas v1.0 and Cloud
//     Manager surfaces, which the spec does not describe): not checked.
//     A success on a v2 path the spec lacks is a mismatch.
//   - Every error body must also carry parameters (our rule; the spec
//     requires only error and errorCode) and error must equal the status.
func (s *apiSpec) check(req *http.Request, status int, header http.Header, body []byte) (string, error) {
	specMu.RLock()
	defer specMu.RUnlock()
	return s.checkLocked(req, status, header, body)
}

// checkLocked is check with specMu held.
func (s *apiSpec) checkLocked(req *http.Request, status int, header http.Header, body []byte) (string, error) {
	if req.Method == http.MethodHead {
		return "nothing (HEAD)", nil
	}
	if strings.HasPrefix(req.URL.Path, "/api/oauth/") {
		// The token endpoints answer in OAuth 2.0's own error format
		// (RFC 6749 §5.2), as the service's do; the spec does not
		// describe them. oauth_test.go checks their bodies.
		return "nothing (OAuth endpoint)", nil
	}
	route, pathParams, err := s.router.FindRoute(req)
	var declared *openapi3.ResponseRef
	switch {
	case err == nil:
		declared = route.Operation.Responses.Status(status)
		if declared == nil {
			declared = route.Operation.Responses.Default()
		}
	case errors.Is(err, routers.ErrPathNotFound), errors.Is(err, routers.ErrMethodNotAllowed):
		route = nil
	default:
		return "", fmt.Errorf("finding the operation: %w", err)
	}

	var errs []error
	if status >= 400 {
		errs = append(errs, checkErrorRules(status, body)...)
	}

	var what string
	switch {
	case declared != nil && olderVersion(declared, header) != "":
		// Not checked: see olderVersion.
		what = fmt.Sprintf("nothing (%s %d: %s)", route.Operation.OperationID, status, olderVersion(declared, header))
	case declared != nil:
		what = fmt.Sprintf("%s %d", route.Operation.OperationID, status)
		b, enveloped, err := unwrapEnvelope(req, status, header, declared, body)
		if err != nil {
			errs = append(errs, err)
			break
		}
		if enveloped {
			what += " (envelope)"
		}
		input := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Request:    req,
				PathParams: pathParams,
				Route:      route,
			},
			Status:  status,
			Header:  header,
			Body:    io.NopCloser(bytes.NewReader(b)),
			Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
			errs = append(errs, err)
		}
	case status >= 400:
		what = "components.schemas.ApiError"
		if route != nil {
			what += fmt.Sprintf(" (%d not declared by %s)", status, route.Operation.OperationID)
		} else {
			what += " (path or method not in the spec)"
		}
		errs = append(errs, s.checkAPIError(header, body)...)
	case route != nil:
		errs = append(errs, fmt.Errorf("status %d is not declared by operation %s", status, route.Operation.OperationID))
	case !isAtlasV2(req.URL.Path):
		// The Atlas v1.0 and Cloud Manager surfaces have no OpenAPI
		// description; only their error bodies (above) are checked.
		what = "nothing (not an Atlas v2 path)"
	default:
		errs = append(errs, fmt.Errorf("status %d for %s %s, which the spec does not describe", status, req.Method, req.URL.Path))
	}
	return what, errors.Join(errs...)
}

// olderVersion explains why a response cannot be checked when its media
// type is a dated Atlas version older than every version the operation's
// response lists, and is "" otherwise.
//
// The spec file is one "latest stable" cut: it lists only the newest
// version of each resource as of its date (listClusters and getCluster
// only at 2024-08-05, for instance), while the server still serves older
// versions (2023-01-01, 2023-02-01) to clients that ask for them. Those
// older representations are described only by older spec files, so there
// is nothing here to validate them against. A missing version that is not
// older than all listed ones is not excused: it is reported as a mismatch.
func olderVersion(declared *openapi3.ResponseRef, header http.Header) string {
	ct := header.Get("Content-Type")
	if declared.Value == nil || declared.Value.Content.Get(ct) != nil {
		return ""
	}
	date, ok := atlasVersion(ct)
	if !ok {
		return ""
	}
	var listed []string
	for k := range declared.Value.Content {
		d, ok := atlasVersion(k)
		if !ok || d <= date {
			return ""
		}
		listed = append(listed, d)
	}
	if len(listed) == 0 {
		return ""
	}
	sort.Strings(listed)
	return fmt.Sprintf("version %s predates the spec's %s", date, strings.Join(listed, ", "))
}

// atlasVersion returns the date of an application/vnd.atlas.YYYY-MM-DD+json
// media type.
func atlasVersion(contentType string) (string, bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", false
	}
	date, ok := strings.CutPrefix(mt, "application/vnd.atlas.")
	if !ok {
		return "", false
	}
	if date, ok = strings.CutSuffix(date, "+json"); !ok {
		return "", false
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return "", false
	}
	return date, true
}

// isAtlasV2 reports whether path is under the Atlas Admin API v2, the only
// API the spec describes.
func isAtlasV2(path string) bool {
	return path == "/api/atlas/v2" || strings.HasPrefix(path, "/api/atlas/v2/")
}

// checkAPIError validates an error body the operation does not describe
// directly against components.schemas.ApiError.
func (s *apiSpec) checkAPIError(header http.Header, body []byte) []error {
	var errs []error
	// Every error response in the spec is application/json.
	if mt, _, err := mime.ParseMediaType(header.Get("Content-Type")); err != nil || mt != "application/json" {
		errs = append(errs, fmt.Errorf("error Content-Type %q, want application/json", header.Get("Content-Type")))
	}
	v, err := openapi3filter.JSONBodyDecoder(bytes.NewReader(body), header, s.apiError, nil)
	if err != nil {
		return append(errs, fmt.Errorf("decoding the error body: %w", err))
	}
	if err := s.apiError.Value.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
		errs = append(errs, fmt.Errorf("error body doesn't match schema #/components/schemas/ApiError: %w", err))
	}
	return errs
}

// checkErrorRules checks what we require of every error body beyond the
// schema.
func checkErrorRules(status int, body []byte) []error {
	var e struct {
		Error      *json.Number     `json:"error"`
		Parameters *json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return []error{fmt.Errorf("error body is not a JSON object: %w", err)}
	}
	var errs []error
	// The 401 Digest challenge is the one error the service sends without
	// parameters (and pretty-printed, in its own key order).
	switch {
	case e.Parameters == nil && status == http.StatusUnauthorized:
	case e.Parameters == nil:
		errs = append(errs, errors.New(`error body has no "parameters" (the spec makes it optional; checkpointd always sends it)`))
	default:
		if p := bytes.TrimSpace(*e.Parameters); len(p) == 0 || p[0] != '[' {
			errs = append(errs, fmt.Errorf(`error body "parameters" is %s, not an array`, p))
		}
	}
	if e.Error == nil || e.Error.String() != fmt.Sprint(status) {
		errs = append(errs, fmt.Errorf(`error body "error" is %v, not the HTTP status %d`, e.Error, status))
	}
	return errs
}

// unwrapEnvelope returns the part of a body that the spec describes: the
// body itself unless it is a successful envelope=true response.
//
// With envelope=true the service wraps a single resource as
// {"content":<resource>,"status":200} and adds "status":200 to a list (the
// list's own results being its envelope, as the spec's envelope parameter
// says). The spec's response schemas describe only the bare forms, so a
// get is validated on its content and a list on the body without status;
// status itself is checked here.
func unwrapEnvelope(req *http.Request, status int, header http.Header, declared *openapi3.ResponseRef, body []byte) (b []byte, enveloped bool, err error) {
	if status < 200 || status > 299 || !envelopeRequested(req) {
		return body, false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, true, fmt.Errorf("envelope: body is not a JSON object: %w", err)
	}
	if st, ok := m["status"]; !ok || string(st) != fmt.Sprint(status) {
		return nil, true, fmt.Errorf("envelope: status is %s, want %d", st, status)
	}
	delete(m, "status")
	if isListResponse(declared, header) {
		b, err := json.Marshal(m)
		return b, true, err
	}
	content, ok := m["content"]
	if !ok || len(m) != 1 {
		return nil, true, fmt.Errorf("envelope: keys %v besides status, want only content", keys(m))
	}
	return content, true, nil
}

// envelopeRequested reports whether the request's first envelope parameter
// is true, as the server reads it.
func envelopeRequested(req *http.Request) bool {
	q, _ := url.ParseQuery(req.URL.RawQuery)
	v := q["envelope"]
	return len(v) > 0 && strings.EqualFold(v[0], "true")
}

// isListResponse reports whether the declared response is a paginated list
// (its schema has results).
func isListResponse(declared *openapi3.ResponseRef, header http.Header) bool {
	if declared.Value == nil {
		return false
	}
	mt := declared.Value.Content.Get(header.Get("Content-Type"))
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return false
	}
	return mt.Schema.Value.Properties["results"] != nil
}

func keys(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// requireSpec is usableSpec for the tests below, which are about the spec
// itself: without it they skip (or fail under CHECKPOINTD_REQUIRE_SPEC=1).
func requireSpec(t *testing.T) *apiSpec {
	t.Helper()
	s := loadSpec()
	switch {
	case s.err != nil:
		t.Fatalf("OpenAPI spec unusable: %v", s.err)
	case s.missing != "" && specRequired():
		t.Fatalf("%s, and %s=1 requires it", s.missing, requireSpecEnv)
	case s.missing != "":
		t.Skipf("%s (set %s=1 to make this a failure)", s.missing, requireSpecEnv)
	}
	return s
}

// specCheck sends one request through the fixture (and so through the
// hook in fixture.do) and also runs the validator on the response
// directly, so that this test covers the validation even if the hook or
// other tests change. It returns what the response was validated against.
func specCheck(t *testing.T, s *apiSpec, f *fixture, method, path string, headers ...string) (response, string) {
	t.Helper()
	res := f.do(t, method, path, nil, headers...)
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	what, err := s.check(req, res.status, res.header, res.body)
	if err != nil {
		t.Errorf("%s %s: %d %s\nvalidator: %v", method, clip(path, 300), res.status, clip(string(res.body), 2000), err)
	}
	return res, what
}

// TestSpecCoverage sends one of each kind of response through the
// validator: list and get, pretty, envelope, and every error kind, and
// checks both the outcome and which part of the spec judged it.
func TestSpecCoverage(t *testing.T) {
	s := requireSpec(t)
	t.Logf("spec loaded in %v", s.loadTime)
	f := mustServe(t, httpapi.Config{})
	list := v2Cluster + "/backupCheckpoints"
	cp := list + "/" + f.ds.Sample["Cluster0"].Hex()
	const (
		listOp = "listLegacyBackupCheckpoints"
		getOp  = "getLegacyBackupCheckpoint"
		direct = "components.schemas.ApiError"
	)
	for _, tt := range []struct {
		name, method, path string
		headers            []string
		status             int
		validatedAs        string // prefix
	}{
		{"list", "", list + "?itemsPerPage=3", nil, 200, listOp + " 200"},
		{"list sharded with tokens", "", list + "?itemsPerPage=500", nil, 200, listOp + " 200"},
		{"list replica set", "", "/api/atlas/v2/groups/" + groupHex + "/clusters/Cluster1/backupCheckpoints?itemsPerPage=50", nil, 200, listOp + " 200"},
		{"list mirrored config", "", "/api/atlas/v2/groups/" + groupHex + "/clusters/LegacyCluster/backupCheckpoints?itemsPerPage=50", nil, 200, listOp + " 200"},
		{"list without count", "", list + "?includeCount=false&itemsPerPage=2", nil, 200, listOp + " 200"},
		{"list empty page", "", list + "?pageNum=99", nil, 200, listOp + " 200"},
		{"list pretty", "", list + "?itemsPerPage=2&pretty=true", nil, 200, listOp + " 200"},
		{"list envelope", "", list + "?itemsPerPage=2&envelope=true", nil, 200, listOp + " 200 (envelope)"},
		{"list envelope pretty", "", list + "?itemsPerPage=2&envelope=true&pretty=true", nil, 200, listOp + " 200 (envelope)"},
		{"get", "", cp, nil, 200, getOp + " 200"},
		{"get pretty", "", cp + "?pretty=true", nil, 200, getOp + " 200"},
		{"get envelope", "", cp + "?envelope=true", nil, 200, getOp + " 200 (envelope)"},
		{"get envelope pretty", "", cp + "?envelope=TRUE&pretty=true", nil, 200, getOp + " 200 (envelope)"},
		{"get envelope false", "", cp + "?envelope=false", nil, 200, getOp + " 200"},
		{"HEAD", http.MethodHead, list, nil, 200, "nothing (HEAD)"},
		{"400 get (declared)", "", cp + "?envelope=on", nil, 400, getOp + " 400"},
		{"400 list (undeclared)", "", list + "?pageNum=abc", nil, 400, direct},
		{"404 unknown checkpoint", "", list + "/5a7cdb3980eef53de5bffdce", nil, 404, getOp + " 404"},
		{"404 unknown checkpoint pretty", "", list + "/5a7cdb3980eef53de5bffdce?pretty=true", nil, 404, getOp + " 404"},
		{"404 malformed checkpoint id", "", list + "/xyz", nil, 404, getOp + " 404"},
		{"404 malformed group", "", "/api/atlas/v2/groups/zzz/clusters/Cluster0/backupCheckpoints", nil, 404, listOp + " 404"},
		{"404 unknown group", "", "/api/atlas/v2/groups/111111111111111111111111/clusters/Cluster0/backupCheckpoints", nil, 404, listOp + " 404"},
		{"404 unknown cluster", "", "/api/atlas/v2/groups/" + groupHex + "/clusters/Nope/backupCheckpoints", nil, 404, listOp + " 404"},
		{"404 unknown path", "", "/api/atlas/v2/nothing", nil, 404, direct},
		{"404 trailing slash", "", list + "/", nil, 404, direct},
		{"405", http.MethodPost, list, nil, 405, direct},
		{"405 on one", http.MethodDelete, cp, nil, 405, direct},
		{"406", "", list, []string{"Accept", "application/json"}, 406, direct},
		{"406 pretty", "", cp + "?pretty=true", []string{"Accept", "text/html"}, 406, direct},
		{"414", "", list + "?x=" + strings.Repeat("a", 9000), nil, 414, direct},
		{"431", "", list, []string{"X-Big", strings.Repeat("b", 40000)}, 431, direct},
		// The v2 discovery endpoints are in the spec too.
		{"projects", "", "/api/atlas/v2/groups", nil, 200, "listProjects 200"},
		{"project", "", "/api/atlas/v2/groups/" + groupHex, nil, 200, "getProject 200"},
		{"clusters", "", "/api/atlas/v2/groups/" + groupHex + "/clusters", []string{"Accept", "application/vnd.atlas.2024-08-05+json"}, 200, "listClusters 200"},
		{"cluster", "", v2Cluster, []string{"Accept", "application/vnd.atlas.2025-03-12+json"}, 200, "getCluster 200"},
		{"clusters at a version the spec no longer lists", "", "/api/atlas/v2/groups/" + groupHex + "/clusters", []string{"Accept", "application/vnd.atlas.2023-02-01+json"}, 200, "nothing (listClusters 200: version 2023-02-01 predates"},
		{"404 unknown project", "", "/api/atlas/v2/groups/111111111111111111111111", nil, 404, "getProject 404"},
		// Atlas v1.0 and Cloud Manager: only their errors are described.
		{"v1.0 list", "", "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints", nil, 200, "nothing (not an Atlas v2 path)"},
		{"v1.0 error", "", "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints/xyz", nil, 404, direct},
		{"Cloud Manager error", "", "/api/public/v1.0/groups/" + groupHex + "/clusters/Cluster0/checkpoints", nil, 404, direct},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			headers := tt.headers
			if len(headers) == 0 || headers[0] != "Accept" {
				headers = append([]string{"Accept", v2Accept}, headers...)
			}
			res, what := specCheck(t, s, f, method, tt.path, headers...)
			if res.status != tt.status {
				t.Errorf("status %d, want %d: %.300s", res.status, tt.status, res.body)
			}
			if !strings.HasPrefix(what, tt.validatedAs) {
				t.Errorf("validated as %q, want %q", what, tt.validatedAs)
			}
		})
	}
}

// TestSpecValidatorCatchesMismatches feeds the validator doctored copies of
// real responses, so that a validator that accepts everything cannot pass
// for a working one.
func TestSpecValidatorCatchesMismatches(t *testing.T) {
	s := requireSpec(t)
	f := mustServe(t, httpapi.Config{})
	list := v2Cluster + "/backupCheckpoints"
	cp := list + "/" + f.ds.Sample["Cluster0"].Hex()
	get := f.get(t, cp, "Accept", v2Accept)
	notFound := f.get(t, list+"/5a7cdb3980eef53de5bffdce", "Accept", v2Accept)
	notAllowed := f.do(t, http.MethodPost, list, nil, "Accept", v2Accept)
	withType := func(h http.Header, ct string) http.Header {
		h = h.Clone()
		h.Set("Content-Type", ct)
		return h
	}
	for _, tt := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		want               string // in the validator's message
	}{
		{"checkpoint id not hex", "GET", cp, 200, get.header,
			strings.Replace(string(get.body), `"id":"`, `"id":"X`, 1), `Error at "/id"`},
		{"restorable not boolean", "GET", cp, 200, get.header,
			strings.Replace(string(get.body), `"restorable":`, `"restorable":"yes","x":`, 1), `Error at "/restorable"`},
		{"unknown typeName", "GET", cp, 200, get.header,
			strings.Replace(string(get.body), `"typeName":"REPLICA_SET"`, `"typeName":"SHARD"`, 1), `/typeName"`},
		{"success as application/json", "GET", cp, 200, withType(get.header, "application/json"), string(get.body), "Content-Type"},
		{"undeclared success status", "GET", cp, 201, get.header, string(get.body), "status 201 is not declared"},
		{"declared error without errorCode", "GET", list + "/5a7cdb3980eef53de5bffdce", 404, notFound.header,
			strings.Replace(string(notFound.body), `"errorCode"`, `"code"`, 1), `property "errorCode" is missing`},
		{"declared error without parameters", "GET", list + "/5a7cdb3980eef53de5bffdce", 404, notFound.header,
			strings.Replace(string(notFound.body), `"parameters"`, `"params"`, 1), `no "parameters"`},
		{"undeclared error without errorCode", "POST", list, 405, notAllowed.header,
			strings.Replace(string(notAllowed.body), `"errorCode"`, `"code"`, 1), `property "errorCode" is missing`},
		{"undeclared error without parameters", "POST", list, 405, notAllowed.header,
			strings.Replace(string(notAllowed.body), `"parameters"`, `"params"`, 1), `no "parameters"`},
		{"error status mismatch", "POST", list, 405, notAllowed.header,
			strings.Replace(string(notAllowed.body), `"error":405`, `"error":400`, 1), `"error" is 400`},
		{"undeclared error as vnd type", "POST", list, 405, withType(notAllowed.header, v2Type), string(notAllowed.body), "error Content-Type"},
		{"get envelope without content", "GET", cp + "?envelope=true", 200, get.header, `{"status":200}`, "want only content"},
		{"get envelope with wrong status", "GET", cp + "?envelope=true", 200, get.header,
			`{"content":` + string(get.body) + `,"status":404}`, "envelope: status is 404"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, f.srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.check(req, tt.status, tt.header, []byte(tt.body))
			if err == nil {
				t.Fatalf("validator accepted %d %.500s", tt.status, tt.body)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("validator message does not mention %q: %v", tt.want, err)
			}
		})
	}
}

// TestSpecIncrementQuirk proves that relaxIncrementQuirk is needed: a real
// checkpoint whose parts carry tokenTimestamps is valid against the
// relaxed spec and invalid against the spec as published.
func TestSpecIncrementQuirk(t *testing.T) {
	s := requireSpec(t)
	if s.quirkMin == nil || *s.quirkMin != quirkMinimum {
		t.Fatalf("the spec's %s.%s minimum is %v, no longer %d: the quirk is fixed upstream; remove relaxIncrementQuirk and this test",
			quirkSchema, quirkProperty, s.quirkMin, quirkMinimum)
	}
	f := mustServe(t, httpapi.Config{})
	list := v2Cluster + "/backupCheckpoints"
	l := decode[checkpointList](t, f.get(t, list+"?itemsPerPage=500", "Accept", v2Accept).body)
	id := ""
	for _, c := range l.Results {
		for _, p := range c.Parts {
			if p.TokenTimestamp != nil && p.TokenTimestamp.Increment < quirkMinimum {
				id = c.ID
			}
		}
	}
	if id == "" {
		t.Fatal("no checkpoint in the demo data has a tokenTimestamp to test with")
	}
	path := list + "/" + id
	res := f.get(t, path, "Accept", v2Accept) // validated (relaxed) by the hook
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.check(req, res.status, res.header, res.body); err != nil {
		t.Fatalf("relaxed spec rejects %s: %v", res.body, err)
	}

	// The spec as published, for this one check; validations elsewhere
	// wait on specMu meanwhile.
	specMu.Lock()
	s.increment.Min = s.quirkMin
	_, err = s.checkLocked(req, res.status, res.header, res.body)
	s.increment.Min = nil
	specMu.Unlock()

	if err == nil {
		t.Fatalf("the published spec accepts %s; the relaxation would be unnecessary", res.body)
	}
	if !strings.Contains(err.Error(), "/tokenTimestamp/increment") {
		t.Errorf("the published spec rejects the response, but not for the increment minimum: %v", err)
	}
	t.Logf("as published, the spec rejects a real response: %v", err)
}

// TestSpecParametersQuirk shows that ApiError.parameters as published
// rejects the parameters the service sends, and that the relaxed schema
// accepts them.
func TestSpecParametersQuirk(t *testing.T) {
	s := requireSpec(t)
	for _, v := range []any{"5a7cdb3980eef53de5bffdce", float64(8192)} {
		if err := s.paramsItemsAsPublished.VisitJSON(v); err == nil {
			t.Errorf("published ApiError.parameters.items accepts %v; the relaxation is no longer needed", v)
		}
		if err := s.apiError.Value.Properties["parameters"].Value.Items.Value.VisitJSON(v); err != nil {
			t.Errorf("relaxed items reject %v: %v", v, err)
		}
	}
}
