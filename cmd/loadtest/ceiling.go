package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The ceiling of the method (method.go) is a process of its own: a bare
// net/http server that answers each request with the bytes and headers
// checkpointd sent for the same request, captured from checkpointd at the
// start of the phase. It runs as this very program, started again with
// ceilingEnv naming the file of captured responses, so that it shares
// nothing with the load test's own process (the built-in generator) and
// its cost is that of one server process, as checkpointd's is.

// ceilingEnv names the captured responses a ceiling process serves.
const ceilingEnv = "CHECKPOINTD_LOADTEST_CEILING"

// captured is one response of checkpointd, as the ceiling replays it.
type captured struct {
	URI    string      // the request URI (path and query) it answered
	Header http.Header // every header but Date, which net/http writes
	Body   []byte
}

// ceilingHandler answers a request with the captured response of the same
// URI. A random walk over a million checkpoints cannot be captured page by
// page: a request not captured is answered with one of the captured pages
// of the same query but pageNum (a sample spread over the range), chosen
// by its pageNum, so that the size and headers are those of a real page
// of the same request.
func ceilingHandler(resps []captured) (http.Handler, error) {
	exact := map[string]*captured{}
	samples := map[string][]*captured{}
	for i := range resps {
		c := &resps[i]
		exact[c.URI] = c
		k, _, err := withoutPageNum(c.URI)
		if err != nil {
			return nil, err
		}
		samples[k] = append(samples[k], c)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uri := r.URL.RequestURI()
		c := exact[uri]
		if c == nil {
			k, page, err := withoutPageNum(uri)
			if s := samples[k]; err == nil && len(s) > 0 {
				c = s[page%len(s)]
			}
		}
		if c == nil {
			http.Error(w, "not captured: "+uri, http.StatusNotFound)
			return
		}
		h := w.Header()
		for k, v := range c.Header {
			h[k] = v
		}
		_, _ = w.Write(c.Body)
	}), nil
}

// withoutPageNum returns uri without its pageNum parameter, and that
// parameter (0 if absent).
func withoutPageNum(uri string) (string, int, error) {
	path, query, _ := strings.Cut(uri, "?")
	var kept []string
	page := 0
	for _, kv := range strings.Split(query, "&") {
		if v, ok := strings.CutPrefix(kv, "pageNum="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return "", 0, fmt.Errorf("pageNum in %q: %w", uri, err)
			}
			page = n
			continue
		}
		if kv != "" {
			kept = append(kept, kv)
		}
	}
	return path + "?" + strings.Join(kept, "&"), page, nil
}

// serveCeiling is the ceiling process: it reads the captured responses
// from file, listens on 127.0.0.1, prints "listening on URL" and serves
// until stdin is closed (the load test ends it so, or by exiting).
func serveCeiling(file string, stdin io.Reader, stdout io.Writer) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var resps []captured
	if err := json.Unmarshal(b, &resps); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	h, err := ceilingHandler(resps)
	if err != nil {
		return err
	}
	ln, err := listen(h)
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}

// ceilingProc is a running ceiling process.
type ceilingProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	once  sync.Once
}

// startCeiling writes resps to file and starts this program as a ceiling
// serving them.
func startCeiling(ctx context.Context, file string, resps []captured) (*ceilingProc, error) {
	b, err := json.Marshal(resps)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), ceilingEnv+"="+file)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &ceilingProc{cmd: cmd, stdin: stdin}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-first:
		u, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			p.stop()
			return nil, fmt.Errorf("ceiling: %q, want listening on URL", line)
		}
		p.url = u
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("ceiling: not listening within 30 s")
	}
	if _, err := url.Parse(p.url); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *ceilingProc) stop() {
	p.once.Do(func() {
		p.stdin.Close()
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	})
}
