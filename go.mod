module github.com/checkpointd/checkpointd

go 1.26.8

require (
	github.com/getkin/kin-openapi v0.152.0 // test only: validates responses against the Atlas OpenAPI spec and checkpointd's own document
	github.com/oasdiff/yaml3 v0.0.14 // test only: parses checkpointd's OpenAPI YAML (the parser kin-openapi loads it with) to generate and check its JSON form
)

require (
	github.com/jackc/pgx/v5 v5.12.0 // the PostgreSQL store's driver and pool (pgxpool), for servers sharing one database
	github.com/pressly/goose/v3 v3.29.0 // schema migrations of the SQLite and PostgreSQL stores, embedded and applied at Open
	modernc.org/sqlite v1.61.1 // the SQLite store's driver: pure Go, so the server builds without cgo
)

require (
	github.com/BurntSushi/toml v1.6.0 // the client profiles file and serve --config: TOML with the undecoded-key report that names a misspelt key; widely used, no dependencies
	github.com/mongodb-forks/digest v1.1.0 // the HTTP Digest transport of the client commands, the one the Atlas SDKs use (UseDigestAuth); tests drive it against internal/auth/digest too
	github.com/prometheus/client_golang v1.25.0 // the /metrics listener (internal/metrics): the Prometheus exposition formats, Go runtime and process collectors
	github.com/spf13/cobra v1.10.2 // the command line: subcommands, --help, completion
	github.com/spf13/pflag v1.0.9 // cobra's flags, read directly to map CHECKPOINTD_* variables onto them
	go.mongodb.org/atlas v0.38.0 // test only: the official Go client, driven against the server unmodified
	go.mongodb.org/mongo-driver/v2 v2.10.0 // the official MongoDB driver: the agent reaches real clusters with it (balancer commands, appendOplogNote, oplog tailing, with the authentication and TLS every deployment uses); the wire-protocol simulator (internal/engine/sim/mongowire) parses and emits with its wiremessage and BSON packages and is tested with its client
)

require (
	golang.org/x/crypto v0.58.0 // argon2id hashing of service account secrets at rest (internal/auth/oauth)
	golang.org/x/oauth2 v0.37.0 // the client commands' service account tokens (clientcredentials), as the Atlas Go SDK gets them; tests drive it against the token endpoint too
)

require (
	github.com/chromedp/cdproto v0.159.0 // test only: the DevTools protocol's Fetch domain, to answer the web view's Digest challenge in the browser test
	github.com/chromedp/chromedp v0.23.0 // test only: drives headless Chromium through the web view end to end (internal/web)
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/mux v1.8.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/kr/pretty v0.3.1 // indirect
	github.com/kylelemons/godebug v1.1.0 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/mfridman/interpolate v0.0.2 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/oasdiff/yaml v0.1.1 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	github.com/sethvargo/go-retry v0.5.0 // indirect
	github.com/xdg-go/scram v1.4.0 // indirect
	github.com/xdg-go/stringprep v1.0.4 // indirect
	github.com/youmark/pkcs8 v0.0.0-20240726163527-a2c0da244d78 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	modernc.org/libc v1.79.0 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)
