package oauth

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// OAuth error codes (RFC 6749 §5.2) used by the service's token endpoint.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeAccessDenied         = "access_denied"
	CodeServerError          = "server_error"
)

// Error descriptions. DescInvalidCredentials and DescUnexpected are the
// service's, captured; the others are ours (the service's texts for them
// are not known), worded in its style.
const (
	DescInvalidCredentials = "Invalid credentials provided."
	DescUnexpected         = "Unexpected error."
	descContentType        = "Content-Type must be application/x-www-form-urlencoded."
	descBodyTooLarge       = "Request body too large."
	descMalformedBody      = "Malformed request body."
	descRepeated           = "Request parameters must not be repeated."
	descNoGrant            = "Missing grant_type."
	descGrant              = "Unsupported grant_type; only client_credentials is supported."
	descTwoMethods         = "Only one client authentication method may be used."
	descNoToken            = "Missing token."
)

// MaxFormBytes bounds the body of a token or revoke request. The largest
// legitimate one, a revoke carrying a token, is well under 1 KiB.
const MaxFormBytes = 8 << 10

// Error is a token or revoke endpoint error, ready to be written with
// WriteError: the request helpers return it so the handler need not map
// errors to statuses itself.
type Error struct {
	Status      int    // HTTP status: 400, 401, 403, 500
	Code        string // the OAuth "error" value
	Description string // the "error_description" value
}

func (e *Error) Error() string { return "oauth: " + e.Code + ": " + e.Description }

// Write writes e with WriteError.
func (e *Error) Write(w http.ResponseWriter) { WriteError(w, e.Status, e.Code, e.Description) }

func badRequest(desc string) *Error { return &Error{http.StatusBadRequest, CodeInvalidRequest, desc} }

// ErrInvalidClient is the answer for any credential problem: missing,
// malformed, unknown or wrong. One answer for all of them, as on the
// service, so that it does not tell an attacker which part was wrong.
var ErrInvalidClient = &Error{http.StatusUnauthorized, CodeInvalidClient, DescInvalidCredentials}

// ParseTokenRequest reads a client credentials token request as the
// official clients send it (golang.org/x/oauth2 with AuthStyleInHeader):
// Content-Type application/x-www-form-urlencoded, body
// grant_type=client_credentials, and HTTP Basic credentials whose id and
// secret are each URL query-escaped before encoding (RFC 6749 §2.3.1);
// they are unescaped here. Credentials in the body as client_id and
// client_secret are accepted too, as RFC 6749 allows, but not both ways at
// once. Parameters in the URL's query are ignored: credentials do not
// belong in URLs, which end up in logs.
//
// The returned credentials have the form of a client id and secret; the
// caller still has to look them up and CompareSecret. On failure err is an
// *Error: 400 invalid_request or unsupported_grant_type for a malformed
// request, 401 invalid_client for missing or malformed credentials. The
// router is expected to admit only POST.
func ParseTokenRequest(r *http.Request) (clientID, clientSecret string, err error) {
	form, e := parseForm(r)
	if e != nil {
		return "", "", e
	}
	switch g := form.Get("grant_type"); {
	case g == "":
		return "", "", badRequest(descNoGrant)
	case g != "client_credentials":
		return "", "", &Error{http.StatusBadRequest, CodeUnsupportedGrantType, descGrant}
	}
	id, secret, e := credentials(r, form)
	if e != nil {
		return "", "", e
	}
	return id, secret, nil
}

// ParseRevokeRequest reads a token revocation request (RFC 7009) as the
// Atlas SDK sends it: the same Basic credentials and content type as a
// token request, body token=<access token>&token_type_hint=access_token.
// The hint is optional and, having one kind of token, ignored.
//
// The handler should then Inspect the token and, if it is genuine and its
// subject is the authenticated client, record its jti as revoked until its
// expiry. Whatever the token is, the answer is 200 with an empty body
// (WriteRevoked): RFC 7009 §2.2 treats an invalid token as already
// revoked, and the SDK treats any other status as a failure.
func ParseRevokeRequest(r *http.Request) (clientID, clientSecret, token string, err error) {
	form, e := parseForm(r)
	if e != nil {
		return "", "", "", e
	}
	token = form.Get("token")
	if token == "" {
		return "", "", "", badRequest(descNoToken)
	}
	id, secret, e := credentials(r, form)
	if e != nil {
		return "", "", "", e
	}
	return id, secret, token, nil
}

// parseForm reads the request's form body, bounded and strictly: no
// repeated parameters (RFC 6749 §3.2), no malformed escapes.
func parseForm(r *http.Request) (url.Values, *Error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, badRequest(descContentType)
	}
	if r.ContentLength > MaxFormBytes {
		return nil, badRequest(descBodyTooLarge)
	}
	if r.Body == nil {
		return nil, badRequest(descMalformedBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxFormBytes+1))
	if err != nil {
		return nil, badRequest(descMalformedBody)
	}
	if len(body) > MaxFormBytes {
		return nil, badRequest(descBodyTooLarge)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest(descMalformedBody)
	}
	for _, v := range form {
		if len(v) > 1 {
			return nil, badRequest(descRepeated)
		}
	}
	return form, nil
}

// credentials takes the client's credentials from the Authorization
// header or the body, whichever carries them.
func credentials(r *http.Request, form url.Values) (string, string, *Error) {
	_, inBody := form["client_id"]
	_, secretInBody := form["client_secret"]
	var id, secret string
	switch {
	case r.Header.Get("Authorization") != "":
		if inBody || secretInBody {
			return "", "", badRequest(descTwoMethods)
		}
		if len(r.Header.Values("Authorization")) != 1 {
			return "", "", ErrInvalidClient
		}
		u, p, ok := r.BasicAuth()
		if !ok {
			return "", "", ErrInvalidClient
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(u)
		secret, err2 = url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			return "", "", ErrInvalidClient
		}
	case inBody || secretInBody:
		id, secret = form.Get("client_id"), form.Get("client_secret")
	default:
		return "", "", ErrInvalidClient
	}
	if !ValidClientID(id) || !ValidClientSecret(secret) {
		return "", "", ErrInvalidClient
	}
	return id, secret, nil
}

// noStore sets the headers RFC 6749 §5.1 requires on token endpoint
// responses, so that no cache keeps a token.
func noStore(h http.Header, contentLength int) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Length", strconv.Itoa(contentLength))
}

// tokenResponse is the service's token body; the field order is its.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// WriteToken writes a successful token response:
// 200 {"access_token":"…","expires_in":3600,"token_type":"Bearer"}.
func WriteToken(w http.ResponseWriter, token string, expiresIn int) {
	body, _ := json.Marshal(tokenResponse{token, expiresIn, "Bearer"})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	noStore(h, len(body))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// errorResponse is the service's OAuth error body; the description comes
// first there.
type errorResponse struct {
	Description string `json:"error_description"`
	Code        string `json:"error"`
}

// WriteError writes an OAuth error response, e.g. 401
// {"error_description":"Invalid credentials provided.","error":"invalid_client"}.
// No WWW-Authenticate header is added: what the service sends there is
// not known, and the clients do not need one.
func WriteError(w http.ResponseWriter, status int, code, description string) {
	body, _ := json.Marshal(errorResponse{description, code})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	noStore(h, len(body))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteRevoked writes the answer to a revoke request: 200 with an empty
// body.
func WriteRevoked(w http.ResponseWriter) {
	noStore(w.Header(), 0)
	w.WriteHeader(http.StatusOK)
}

// BearerToken extracts the token from an Authorization header value of the
// form "Bearer <token>" (RFC 6750 §2.1): the scheme in any case, exactly
// one space, then one token of the b64token alphabet
// [A-Za-z0-9-._~+/] followed by optional '='. Anything else, including a
// token longer than MaxTokenLen, is not a bearer credential. The caller
// passes r.Header.Get("Authorization") and should refuse requests with
// several Authorization headers.
func BearerToken(header string) (string, bool) {
	const scheme = "Bearer "
	if len(header) <= len(scheme) || len(header) > len(scheme)+MaxTokenLen ||
		!strings.EqualFold(header[:len(scheme)], scheme) {
		return "", false
	}
	tok := header[len(scheme):]
	i := 0
	for i < len(tok) && isB64Token(tok[i]) {
		i++
	}
	if i == 0 {
		return "", false
	}
	for ; i < len(tok); i++ {
		if tok[i] != '=' {
			return "", false
		}
	}
	return tok, true
}

func isB64Token(c byte) bool { return b64Token[c] }

// b64Token says which bytes are b64token characters (RFC 6750): a table
// rather than comparisons, for a long token.
var b64Token = func() (t [256]bool) {
	for c := range t {
		b := byte(c)
		t[c] = isB64URL(b) || b == '.' || b == '~' || b == '+' || b == '/'
	}
	return t
}()
