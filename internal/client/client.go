// Package client reads backup checkpoints over HTTP from any server that
// speaks the MongoDB Cloud checkpoints API: checkpointd, Atlas or Cloud
// Manager. It sets up the transport for either credential kind (HTTP
// Digest for API keys, OAuth client credentials for service accounts),
// builds the path of each API generation, follows pages, and turns the
// API's error bodies into *APIError.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	digest "github.com/mongodb-forks/digest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// API names one generation of the checkpoints API.
type API string

// The API generations a server may speak.
const (
	AtlasV2      API = "atlas-v2"      // /api/atlas/v2, versioned media type
	AtlasV1      API = "atlas-v1"      // /api/atlas/v1.0
	CloudManager API = "cloud-manager" // /api/public/v1.0, clusters named by id
)

// APIs lists every generation, the default first.
var APIs = []API{AtlasV2, AtlasV1, CloudManager}

// ParseAPI reads an API generation's name.
func ParseAPI(s string) (API, error) {
	for _, a := range APIs {
		if string(a) == s {
			return a, nil
		}
	}
	return "", fmt.Errorf("%q is not an API: want atlas-v2, atlas-v1 or cloud-manager", s)
}

// v2Accept is the version of the v2 checkpoints resource this package
// reads; the resource has had no other.
const v2Accept = "application/vnd.atlas.2023-01-01+json"

// TokenPath is where a server takes client credentials for a token.
const TokenPath = "/api/oauth/token"

// Credentials are an API key's or a service account's: exactly one pair.
type Credentials struct {
	PublicKey, PrivateKey  string
	ClientID, ClientSecret string
}

// Check reports a missing, partial or doubled pair, naming the flags.
func (c Credentials) Check() error {
	key := c.PublicKey != "" || c.PrivateKey != ""
	account := c.ClientID != "" || c.ClientSecret != ""
	switch {
	case key && account:
		return errors.New("give either an API key (--public-key, --private-key) or a service account (--client-id, --client-secret), not both")
	case key && (c.PublicKey == "" || c.PrivateKey == ""):
		return errors.New("an API key needs both --public-key and --private-key")
	case account && (c.ClientID == "" || c.ClientSecret == ""):
		return errors.New("a service account needs both --client-id and --client-secret")
	case !key && !account:
		return errors.New("no credentials: give an API key (--public-key, --private-key) or a service account (--client-id, --client-secret), in flags, CHECKPOINTD_* variables or a profile")
	}
	return nil
}

// Config says where and how a Client connects.
type Config struct {
	// BaseURL is the server's scheme, host and any path prefix, e.g.
	// https://cloud.mongodb.com.
	BaseURL string
	API     API
	Credentials
	// Transport carries the requests (and the token requests); nil is
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds each request, token requests included; zero is 60s.
	Timeout time.Duration
	// UserAgent is sent on every request.
	UserAgent string
}

// Client reads checkpoints from one server with one set of credentials.
type Client struct {
	base  string // without a trailing slash
	api   API
	hc    *http.Client
	ua    string
	creds string // the credentials' public half, for messages
}

// New checks cfg and sets up the transport. No request is made: the
// token of a service account is fetched on the first request.
func New(cfg Config) (*Client, error) {
	if err := cfg.Credentials.Check(); err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q: want http:// or https:// and a host, e.g. http://127.0.0.1:8080", cfg.BaseURL)
	}
	if cfg.API == "" {
		cfg.API = AtlasV2
	}
	if _, err := ParseAPI(string(cfg.API)); err != nil {
		return nil, err
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	rt := cfg.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Minute
	}
	c := &Client{base: base, api: cfg.API, ua: cfg.UserAgent}
	if cfg.PublicKey != "" {
		// The transport the Atlas SDKs use: it answers the challenge of
		// the first 401 and retries.
		c.hc = &http.Client{Transport: digest.NewTransportWithHTTPRoundTripper(cfg.PublicKey, cfg.PrivateKey, rt), Timeout: cfg.Timeout}
		c.creds = "API key " + cfg.PublicKey
		return c, nil
	}
	cc := &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     base + TokenPath,
		AuthStyle:    oauth2.AuthStyleInHeader, // HTTP Basic, as the service takes them
	}
	// The token source lives as long as the client; the context only
	// carries the HTTP client that token requests go through.
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: rt, Timeout: cfg.Timeout})
	c.hc = &http.Client{
		Transport: &oauth2.Transport{Source: cc.TokenSource(tokenCtx), Base: rt},
		Timeout:   cfg.Timeout,
	}
	c.creds = "service account " + cfg.ClientID
	return c, nil
}

// API is the generation the client speaks.
func (c *Client) API() API { return c.api }

// checkpointsPath is the list path of a cluster's checkpoints; cluster is
// a name on Atlas and an id on Cloud Manager.
func (c *Client) checkpointsPath(project, cluster string) string {
	p, cl := url.PathEscape(project), url.PathEscape(cluster)
	switch c.api {
	case AtlasV1:
		return "/api/atlas/v1.0/groups/" + p + "/clusters/" + cl + "/backupCheckpoints"
	case CloudManager:
		return "/api/public/v1.0/groups/" + p + "/clusters/" + cl + "/checkpoints"
	}
	return "/api/atlas/v2/groups/" + p + "/clusters/" + cl + "/backupCheckpoints"
}

// Link is one entry of a resource's links.
type Link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// Page is one page of a list as the server sent it.
type Page struct {
	Results    []Checkpoint
	TotalCount int
	Links      []Link
	// Raw holds each result's JSON as the server sent it, in the order
	// of Results.
	Raw []json.RawMessage
	// Body is the page's whole JSON as the server sent it (not set on the
	// joined pages of ListAllCheckpoints).
	Body json.RawMessage
}

// ListOptions select a page. Zero values are left to the server
// (page 1, 100 items).
type ListOptions struct {
	PageNum      int
	ItemsPerPage int
}

// ListCheckpoints reads one page of a cluster's checkpoints.
func (c *Client) ListCheckpoints(ctx context.Context, project, cluster string, opt ListOptions) (*Page, error) {
	q := url.Values{}
	if opt.PageNum > 0 {
		q.Set("pageNum", strconv.Itoa(opt.PageNum))
	}
	if opt.ItemsPerPage > 0 {
		q.Set("itemsPerPage", strconv.Itoa(opt.ItemsPerPage))
	}
	body, err := c.get(ctx, c.checkpointsPath(project, cluster), q)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Results    []json.RawMessage `json:"results"`
		TotalCount int               `json:"totalCount"`
		Links      []Link            `json:"links"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("%s: the server's list is not a checkpoints page: %w", c.base, err)
	}
	page := &Page{Results: make([]Checkpoint, len(raw.Results)), TotalCount: raw.TotalCount, Links: raw.Links, Raw: raw.Results, Body: body}
	for i, r := range raw.Results {
		if err := json.Unmarshal(r, &page.Results[i]); err != nil {
			return nil, fmt.Errorf("%s: result %d of the list is not a checkpoint: %w", c.base, i+1, err)
		}
	}
	return page, nil
}

// MaxPages bounds ListAllCheckpoints: at 500 items a page, a quarter of a
// million checkpoints, far more than a cluster keeps.
const MaxPages = 500

// ListAllCheckpoints reads every page of a cluster's checkpoints,
// itemsPerPage at a time (zero: the server's default). It follows the
// page number of each page's next link; a server that sends no links is
// read page by page until a page comes back short or empty. The requests
// always go to the client's own base URL, whatever host a link names, so
// credentials are never sent elsewhere.
func (c *Client) ListAllCheckpoints(ctx context.Context, project, cluster string, itemsPerPage int) (*Page, error) {
	all := &Page{Results: []Checkpoint{}, Raw: []json.RawMessage{}}
	num := 1
	for pages := 0; ; pages++ {
		if pages == MaxPages {
			return nil, fmt.Errorf("more than %d pages of checkpoints: giving up (use --page)", MaxPages)
		}
		p, err := c.ListCheckpoints(ctx, project, cluster, ListOptions{PageNum: num, ItemsPerPage: itemsPerPage})
		if err != nil {
			return nil, err
		}
		all.Results = append(all.Results, p.Results...)
		all.Raw = append(all.Raw, p.Raw...)
		all.TotalCount = max(all.TotalCount, p.TotalCount)
		next, ok := nextPage(p, num, itemsPerPage)
		if !ok {
			break
		}
		if next <= num {
			return nil, fmt.Errorf("the next link of page %d points back to page %d", num, next)
		}
		num = next
	}
	if all.TotalCount < len(all.Results) {
		all.TotalCount = len(all.Results)
	}
	return all, nil
}

// nextPage finds the page after page num of p: its next link's pageNum,
// or without any links, num+1 while pages come back full.
func nextPage(p *Page, num, itemsPerPage int) (int, bool) {
	if len(p.Results) == 0 {
		return 0, false
	}
	for _, l := range p.Links {
		if l.Rel != "next" {
			continue
		}
		u, err := url.Parse(l.Href)
		if err != nil {
			return 0, false
		}
		n, err := strconv.Atoi(u.Query().Get("pageNum"))
		if err != nil {
			return num + 1, true // a next link without a page number: the one after
		}
		return n, true
	}
	if len(p.Links) > 0 {
		return 0, false // links without next: the last page
	}
	if itemsPerPage == 0 {
		itemsPerPage = 100
	}
	return num + 1, len(p.Results) >= itemsPerPage
}

// GetCheckpoint reads one checkpoint and returns it with its JSON as the
// server sent it.
func (c *Client) GetCheckpoint(ctx context.Context, project, cluster, id string) (*Checkpoint, json.RawMessage, error) {
	body, err := c.get(ctx, c.checkpointsPath(project, cluster)+"/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, nil, err
	}
	var cp Checkpoint
	if err := json.Unmarshal(body, &cp); err != nil {
		return nil, nil, fmt.Errorf("%s: the server's answer is not a checkpoint: %w", c.base, err)
	}
	return &cp, body, nil
}

// maxBody bounds what is read of a response: a page of 500 checkpoints
// of a large sharded cluster is a few megabytes.
const maxBody = 64 << 20

// get sends a GET and returns the body of a 200; any other status is an
// *APIError.
func (c *Client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	_, body, err := c.do(ctx, http.MethodGet, path, q, nil)
	return body, err
}

// do sends a request, with body as JSON unless it is nil, and returns the
// status and body of a 200 or 201; any other status is an *APIError.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte) (int, []byte, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.api == AtlasV2 && !strings.HasPrefix(path, AdminPrefix) {
		req.Header.Set("Accept", v2Accept)
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, c.transportError(err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: reading the answer: %w", c.base, err)
	}
	if len(answer) > maxBody {
		return 0, nil, fmt.Errorf("%s: the answer is larger than %d MiB", c.base, maxBody>>20)
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		return 0, nil, c.apiError(res, answer)
	}
	return res.StatusCode, answer, nil
}

// APIError is an error answer of the server, in the API's format
// ({"detail","error","errorCode","parameters","reason"}) when it sent
// that.
type APIError struct {
	Status     int    `json:"error"`
	Reason     string `json:"reason"`
	ErrorCode  string `json:"errorCode"`
	Detail     string `json:"detail"`
	Parameters []any  `json:"parameters"`
	// Hint says what the caller may do about it, when that is clear.
	Hint string `json:"-"`
}

// Error is "CODE: detail", as the service words its errors, with the
// hint after it.
func (e *APIError) Error() string {
	s := e.ErrorCode + ": " + e.Detail
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// apiError reads an error answer. A body not in the API's format (a proxy's
// page, say) is reported by status, with the start of the body.
func (c *Client) apiError(res *http.Response, body []byte) *APIError {
	var e APIError
	if json.Unmarshal(body, &e) != nil || e.ErrorCode == "" {
		text := strings.Join(strings.Fields(string(body)), " ")
		if len(text) > 200 {
			text = text[:200] + "…"
		}
		if text == "" {
			text = "(empty body)"
		}
		e = APIError{ErrorCode: "HTTP " + res.Status, Detail: text}
	}
	e.Status = res.StatusCode
	if res.StatusCode == http.StatusUnauthorized && res.Header.Get("Www-Authenticate") != "" {
		// A challenge after the transport answered one: the server did
		// not take the credentials at all (USER_UNAUTHORIZED, without a
		// challenge, is a role too low for the resource).
		e.Hint = "the server refused the credentials of " + c.creds + ": check them and --base-url"
	}
	return &e
}

// transportError says clearly that the server could not be reached, or
// that a service account's token could not be had.
func (c *Client) transportError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		detail := re.ErrorDescription
		if detail == "" {
			detail = strings.TrimSpace(string(re.Body))
		}
		status, code := 0, re.ErrorCode
		if re.Response != nil {
			status = re.Response.StatusCode
			if code == "" {
				code = "HTTP " + re.Response.Status
			}
		}
		return &APIError{
			Status: status, ErrorCode: code, Detail: detail,
			Hint: "the token endpoint " + c.base + TokenPath + " refused the credentials of " + c.creds,
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("cannot connect to %s (is the server running, and is --base-url right?): %w", c.base, op)
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return fmt.Errorf("no answer from %s in time: %w", c.base, ue.Err)
	}
	if errors.As(err, &ue) {
		return fmt.Errorf("request to %s failed: %w", c.base, ue.Err)
	}
	return err
}

// Pretty re-indents JSON as it was sent, two spaces a level, keeping the
// key order.
func Pretty(raw []byte) []byte {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return raw
	}
	return b.Bytes()
}
