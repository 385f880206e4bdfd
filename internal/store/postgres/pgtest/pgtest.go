// Package pgtest gives tests a PostgreSQL schema of their own on the
// server that the environment names, so that tests of the PostgreSQL
// store, in any package, run in parallel and leave nothing behind.
//
// The server is named by CHECKPOINTD_TEST_POSTGRES, a connection string
// (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable). Without
// it the tests that need a server are skipped with the reason logged,
// unless CI=true: there a missing server fails them, so that a CI run
// cannot pass by skipping them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN is the environment variable that holds the test server's
// connection string.
const EnvDSN = "CHECKPOINTD_TEST_POSTGRES"

// SchemaPrefix starts the name of every schema DSN creates.
const SchemaPrefix = "checkpointd_test_"

// BaseDSN returns the test server's connection string. Without one it
// skips t, or fails it when the environment variable CI is "true".
func BaseDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set, and CI=true: the PostgreSQL tests must run in CI", EnvDSN)
		}
		t.Skipf("%s is not set: skipping the tests that need a PostgreSQL server (e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvDSN, EnvDSN)
	}
	return dsn
}

// DSN creates an empty schema with a random name on the test server and
// returns a connection string whose search_path is that schema. The
// schema is dropped, with everything in it, when t ends; whatever t
// opened on it must be closed by cleanups registered after DSN returns
// (which run before this one).
func DSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := SchemaPrefix + hex.EncodeToString(b[:])
	exec(t, base, `CREATE SCHEMA `+schema)
	t.Cleanup(func() { exec(t, base, `DROP SCHEMA `+schema+` CASCADE`) })
	return WithSearchPath(base, schema)
}

// exec runs one statement on its own connection.
func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the %s server: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// WithSearchPath returns dsn with its search_path set to schema: a URL's
// query parameter, or a keyword/value string's keyword. pgx sends it to
// the server as a run-time parameter of every connection.
func WithSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return fmt.Sprintf("%s search_path=%s", dsn, schema)
}
