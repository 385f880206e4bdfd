package shape

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

func TestCodecs(t *testing.T) {
	project, ok := backup.ParseObjectID("5f1a2b3c4d5e6f7a8b9c0d1e")
	if !ok {
		t.Fatal("bad test id")
	}
	grants := []backup.Grant{{Role: "GROUP_OWNER", ProjectID: project}, {Role: "ORG_READ_ONLY"}}
	prefixes := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	shards := []backup.Shard{{Name: "s0", ReplicaSetName: "rs0"}, {Name: "s1"}}
	config := backup.ConfigServer{ReplicaSetName: "cfg", HostIDs: []string{"h1:27019"}}

	round := []struct {
		name   string
		encode func() (string, error)
		decode func(string) (any, error)
		want   any
	}{
		{"grants", func() (string, error) { return EncodeGrants(grants) }, func(s string) (any, error) { return DecodeGrants(s) }, grants},
		{"no grants", func() (string, error) { return EncodeGrants(nil) }, func(s string) (any, error) { return DecodeGrants(s) }, []backup.Grant(nil)},
		{"access list", func() (string, error) { return EncodeAccessList(prefixes) }, func(s string) (any, error) { return DecodeAccessList(s) }, prefixes},
		{"no access list", func() (string, error) { return EncodeAccessList(nil) }, func(s string) (any, error) { return DecodeAccessList(s) }, []netip.Prefix(nil)},
		{"shards", func() (string, error) { return EncodeShards(shards) }, func(s string) (any, error) { return DecodeShards(s) }, shards},
		{"no shards", func() (string, error) { return EncodeShards(nil) }, func(s string) (any, error) { return DecodeShards(s) }, []backup.Shard(nil)},
		{"config", func() (string, error) { return EncodeConfig(config) }, func(s string) (any, error) { return DecodeConfig(s) }, config},
		{"no config", func() (string, error) { return EncodeConfig(backup.ConfigServer{}) }, func(s string) (any, error) { return DecodeConfig(s) }, backup.ConfigServer{}},
	}
	for _, tc := range round {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.encode()
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			got, err := tc.decode(s)
			if err != nil {
				t.Fatalf("decode %s: %v", s, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s read back as %#v, want %#v", s, got, tc.want)
			}
		})
	}

	// The stored JSON is what both stores' rows hold; it must not change.
	if s, _ := EncodeGrants(grants); s != `[{"role":"GROUP_OWNER","groupId":"5f1a2b3c4d5e6f7a8b9c0d1e"},{"role":"ORG_READ_ONLY"}]` {
		t.Errorf("grants stored as %s", s)
	}
	if s, _ := EncodeShards(shards); s != `[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":""}]` {
		t.Errorf("shards stored as %s", s)
	}
	if s, _ := EncodeConfig(backup.ConfigServer{}); s != `{}` {
		t.Errorf("empty config stored as %s", s)
	}

	malformed := []struct {
		name string
		err  func() error
	}{
		{"grants not JSON", func() error { _, err := DecodeGrants("{"); return err }},
		{"grants bad project id", func() error { _, err := DecodeGrants(`[{"role":"GROUP_OWNER","groupId":"xyz"}]`); return err }},
		{"access list not JSON", func() error { _, err := DecodeAccessList("nope"); return err }},
		{"access list bad prefix", func() error { _, err := DecodeAccessList(`["10.0.0.0/33"]`); return err }},
		{"shards not JSON", func() error { _, err := DecodeShards(`{"name":1}`); return err }},
		{"config not JSON", func() error { _, err := DecodeConfig(`[`); return err }},
		{"id too short", func() error { _, err := ParseID([]byte("5f1a")); return err }},
		{"id not hex", func() error { _, err := ParseID([]byte("zz1a2b3c4d5e6f7a8b9c0d1e")); return err }},
		{"id string not hex", func() error { _, err := ParseIDString("zz1a2b3c4d5e6f7a8b9c0d1e"); return err }},
	}
	for _, tc := range malformed {
		if tc.err() == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}

	var be *backup.Error
	if _, err := EncodeAccessList([]netip.Prefix{{}}); !errors.As(err, &be) || be.Code != backup.CodeInvalidAttribute {
		t.Errorf("invalid prefix: %v, want INVALID_ATTRIBUTE", err)
	}
	if _, _, err := Principal(grants, []netip.Prefix{{}}); err == nil {
		t.Error("principal with an invalid prefix: no error")
	}
}

func TestParseID(t *testing.T) {
	want, _ := backup.ParseObjectID("5f1a2b3c4d5e6f7a8b9c0d1e")
	b := []byte("5f1a2b3c4d5e6f7a8b9c0d1e")
	if got, err := ParseID(b); err != nil || got != want {
		t.Fatalf("ParseID = %v, %v", got, err)
	}
	if got, err := ParseIDString(string(b)); err != nil || got != want {
		t.Fatalf("ParseIDString = %v, %v", got, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseID(b) }); n != 0 {
		t.Errorf("ParseID allocates %v times", n)
	}
}

func TestScalars(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want bool
	}{
		{"", 32, true},
		{"0123456789abcdef0123456789abcdef", 32, true},
		{"0123456789ABCDEF0123456789abcdef", 32, false},
		{"0123", 32, false},
		{"0123456789abcdeg0123456789abcdef", 32, false},
	} {
		if got := ValidHA1(tc.s, tc.n); got != tc.want {
			t.Errorf("ValidHA1(%q, %d) = %v", tc.s, tc.n, got)
		}
	}
	at := time.Unix(100, 0)
	if got := ExpirySeconds(at); got != 100 {
		t.Errorf("ExpirySeconds(whole) = %d", got)
	}
	if got := ExpirySeconds(at.Add(time.Nanosecond)); got != 101 {
		t.Errorf("ExpirySeconds(+1ns) = %d, want rounded up", got)
	}
	if got := UnixTime(time.Time{}.Unix()); !got.IsZero() {
		t.Errorf("zero time reads back as %v", got)
	}
	if got := UnixTime(100); got.Location() != time.UTC || got.Unix() != 100 {
		t.Errorf("UnixTime(100) = %v", got)
	}
	if !KeyLess(1, "b", 2, "a") || !KeyLess(1, "a", 1, "b") || KeyLess(1, "b", 1, "b") {
		t.Error("KeyLess does not order by timestamp, then id")
	}
	for _, tc := range []struct {
		blob []byte
		want int
	}{
		{nil, 0}, {[]byte{1}, 0}, {[]byte{1, 3}, 3}, {[]byte{1, 0x80, 0x01}, 128},
		{[]byte{1, 0xff, 0xff}, 0}, {[]byte{1, 0x80, 0x10}, 1024},
	} {
		if got := PartCount(tc.blob); got != tc.want {
			t.Errorf("PartCount(%x) = %d, want %d", tc.blob, got, tc.want)
		}
	}
}
