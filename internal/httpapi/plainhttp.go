package httpapi

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// CodeHTTPSRequired is the errorCode of a plain HTTP request sent to the
// port of a server that serves HTTPS (see RefusePlainHTTP).
const CodeHTTPSRequired = "HTTPS_REQUIRED"

// errPlainHTTP ends the TLS handshake of a connection that RefusePlainHTTP
// answered; net/http logs it as the handshake's error.
var errPlainHTTP = errors.New("plain HTTP request on the HTTPS port: answered 400 " + CodeHTTPSRequired)

// plainHTTPResponse is the whole answer to a plain HTTP request on the
// HTTPS port, in the API's error format.
var plainHTTPResponse = func() []byte {
	body := appendError(nil, http.StatusBadRequest, CodeHTTPSRequired,
		"This server serves HTTPS only: send the request again to an https:// URL.", []any{})
	return []byte("HTTP/1.1 400 Bad Request\r\n" +
		"Content-Type: application/json\r\n" +
		"X-Error-Code: " + CodeHTTPSRequired + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" +
		"Connection: close\r\n\r\n" + string(body))
}()

// RefusePlainHTTP wraps the listener of an HTTPS server (the one given to
// http.Server.ServeTLS) so that a plain HTTP request sent to it is
// answered 400 in the API's error format, rather than with net/http's
// text/plain "Client sent an HTTP request to an HTTPS server.". The
// first bytes a connection sends tell: a TLS client's are a handshake
// record (0x16), an HTTP client's a method's capital letters. Nothing is
// read in Accept: a connection is looked at when the TLS handshake first
// reads from it, in the server's goroutine for that connection, under the
// server's read timeout. Anything else is left to TLS to refuse.
func RefusePlainHTTP(ln net.Listener) net.Listener {
	return plainHTTPListener{ln}
}

type plainHTTPListener struct{ net.Listener }

func (l plainHTTPListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c}, nil
}

// sniffConn looks at the first bytes read from a connection.
type sniffConn struct {
	net.Conn
	once sync.Once
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	plain := false
	c.once.Do(func() { plain = n > 0 && p[0] >= 'A' && p[0] <= 'Z' })
	if !plain {
		return n, err
	}
	c.refuse()
	return 0, errPlainHTTP
}

// refuse answers a plain HTTP request and closes the connection's writing
// side, then reads what the client still sends for a moment, so that
// closing does not reset the connection before the client has read the
// answer (as net/http does after an error).
func (c *sniffConn) refuse() {
	// A connection's deadlines are on the wall clock: real elapsed time.
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := c.Conn.Write(plainHTTPResponse); err != nil {
		return
	}
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond)) // elapsed, as above
		_, _ = io.Copy(io.Discard, io.LimitReader(c.Conn, 1<<16))
	}
}
