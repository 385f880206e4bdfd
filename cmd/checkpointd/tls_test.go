package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	digest "github.com/mongodb-forks/digest"
)

// selfSigned writes a self-signed ECDSA P-256 certificate for 127.0.0.1
// and its key as PEM files in dir, and returns their paths and the
// certificate.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "checkpointd test " + name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// tlsTransport trusts cert alone and refuses anything below minVersion.
func tlsTransport(cert *x509.Certificate, minVersion, maxVersion uint16) *http.Transport {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: minVersion, MaxVersion: maxVersion}}
}

// TestServeTLS serves --demo over HTTPS with a self-signed certificate: the
// printed URLs are https, an authenticated request through the Digest
// transport succeeds for a client that trusts the certificate, plain HTTP
// and TLS 1.1 are refused, and the settings come from the environment as
// well as from flags.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir, "server")
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flags", []string{"--tls-cert", certFile, "--tls-key", keyFile}, nil},
		{"env", nil, map[string]string{"CHECKPOINTD_TLS_CERT": certFile, "CHECKPOINTD_TLS_KEY": keyFile}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--demo", "--database", filepath.Join(dir, tt.name+".db")}, tt.args...)
			printed, base := startServe(t, func(k string) string { return tt.env[k] }, args...)
			if !strings.HasPrefix(base, "https://127.0.0.1:") {
				t.Fatalf("listening on %s, want https://127.0.0.1:PORT", base)
			}
			urls := curlURL.FindAllStringSubmatch(printed, -1)
			if len(urls) == 0 {
				t.Fatalf("no curl commands printed:\n%s", printed)
			}
			for _, m := range urls {
				if !strings.HasPrefix(m[5], base+"/api/") {
					t.Errorf("printed URL %s is not on %s", m[5], base)
				}
			}

			client := demoClient(t, printed)
			client.Transport.(*digest.Transport).Transport = tlsTransport(cert, tls.VersionTLS12, 0)
			req, _ := http.NewRequest(http.MethodGet, urls[0][5], nil)
			if k, v, ok := strings.Cut(urls[0][4], ": "); ok {
				req.Header.Set(k, v)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || res.TLS == nil || !strings.Contains(string(body), `"results"`) {
				t.Errorf("GET %s over TLS: %d, tls %v, %.200s", urls[0][5], res.StatusCode, res.TLS != nil, body)
			}

			// A client that does not trust the certificate fails the handshake.
			if _, err := http.Get(base + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("GET without trusting the certificate: %v, want a certificate error", err)
			}
			// Plain HTTP on the TLS port is refused in the API's error format.
			res, err = http.Get("http://" + strings.TrimPrefix(base, "https://") + "/api/atlas/v1.0/groups")
			if err != nil {
				t.Fatalf("plain HTTP on the TLS port: %v", err)
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(body), `"errorCode":"HTTPS_REQUIRED"`) {
				t.Errorf("plain HTTP on the TLS port: %d %s %s, want 400 application/json HTTPS_REQUIRED", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			// TLS 1.1 is refused.
			old := &http.Client{Transport: tlsTransport(cert, tls.VersionTLS10, tls.VersionTLS11)}
			if res, err := old.Get(base + "/healthz"); err == nil {
				res.Body.Close()
				t.Errorf("TLS 1.1 accepted")
			}
		})
	}
}

// TestServeTLSSettings: the two flags go together, and unreadable or
// mismatched files are refused at start with a message naming the flag.
func TestServeTLSSettings(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir, "a")
	_, otherKey, _ := selfSigned(t, dir, "b")
	missing := filepath.Join(dir, "missing.pem")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"cert alone", []string{"--tls-cert", certFile}, nil, "--tls-cert needs --tls-key"},
		{"key alone", []string{"--tls-key", keyFile}, nil, "--tls-key needs --tls-cert"},
		{"cert alone env", nil, map[string]string{"CHECKPOINTD_TLS_CERT": certFile}, "--tls-cert needs --tls-key"},
		{"key from env, no cert", nil, map[string]string{"CHECKPOINTD_TLS_KEY": keyFile}, "--tls-key needs --tls-cert"},
		{"missing cert", []string{"--tls-cert", missing, "--tls-key", keyFile}, nil, "--tls-cert: open " + missing},
		{"missing key", []string{"--tls-cert", certFile, "--tls-key", missing}, nil, "--tls-key: open " + missing},
		{"key is a directory", []string{"--tls-cert", certFile, "--tls-key", dir}, nil, "--tls-key: read " + dir},
		{"not PEM", []string{"--tls-cert", notPEM, "--tls-key", keyFile}, nil, "--tls-cert " + notPEM + ", --tls-key " + keyFile + ": tls: failed to find any PEM data in certificate input"},
		{"swapped", []string{"--tls-cert", keyFile, "--tls-key", certFile}, nil, "--tls-cert " + keyFile},
		{"key does not match", []string{"--tls-cert", certFile, "--tls-key", otherKey}, nil, "private key does not match public key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--database", filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".db")}, tt.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out strings.Builder
			err := run(ctx, args, getenv, &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", args, err, tt.want)
			}
			if strings.Contains(out.String(), "listening on") {
				t.Errorf("serve listened despite the error:\n%s", out.String())
			}
		})
	}
}

// TestHelpTLS: serve --help lists the TLS flags, their FILE argument and
// what they do.
func TestHelpTLS(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"serve", "--help"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--tls-cert FILE", "--tls-key FILE", "HTTPS", "TLS 1.2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help lacks %q:\n%s", want, out.String())
		}
	}
}
