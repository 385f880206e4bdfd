package shape

import (
	"reflect"
	"testing"
)

// FuzzDecodeShapes reads any stored column as each of the JSON shapes
// (grants, access list, shards, config server): never a panic, and what
// reads without error writes back to a column that reads the same again.
func FuzzDecodeShapes(f *testing.F) {
	for _, s := range []string{
		`[{"role":"ORG_OWNER"},{"role":"GROUP_READ_ONLY","groupId":"5e2211c17a3e5a48f5497de3"}]`,
		`[{"role":"GROUP_OWNER","groupId":"5E2211C17A3E5A48F5497DE3"}]`,
		`["192.0.2.0/24","2001:db8::/32","::ffff:192.0.2.1/128"]`,
		`["192.0.2.1/24"]`, `["fe80::1%eth0/64"]`,
		`[{"name":"s0","replicaSetName":"rs0"},{"name":"","replicaSetName":""}]`,
		`{"replicaSetName":"cfg"}`, `{"hostIds":["h1","h2","h3"]}`,
		`null`, `[]`, `{}`, `[null]`, `"x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if gs, err := DecodeGrants(s); err == nil {
			enc, err := EncodeGrants(gs)
			if err != nil {
				t.Fatalf("grants %q: %v", s, err)
			}
			if again, err := DecodeGrants(enc); err != nil || !reflect.DeepEqual(again, gs) {
				t.Fatalf("grants %q → %q → %v, %v; want %v", s, enc, again, err, gs)
			}
		}
		if ps, err := DecodeAccessList(s); err == nil {
			enc, err := EncodeAccessList(ps)
			if err != nil {
				t.Fatalf("access list %q: %v", s, err)
			}
			if again, err := DecodeAccessList(enc); err != nil || !reflect.DeepEqual(again, ps) {
				t.Fatalf("access list %q → %q → %v, %v; want %v", s, enc, again, err, ps)
			}
		}
		if ss, err := DecodeShards(s); err == nil {
			enc, err := EncodeShards(ss)
			if err != nil {
				t.Fatalf("shards %q: %v", s, err)
			}
			if again, err := DecodeShards(enc); err != nil || !reflect.DeepEqual(again, ss) {
				t.Fatalf("shards %q → %q → %v, %v; want %v", s, enc, again, err, ss)
			}
		}
		if c, err := DecodeConfig(s); err == nil {
			enc, err := EncodeConfig(c)
			if err != nil {
				t.Fatalf("config %q: %v", s, err)
			}
			if again, err := DecodeConfig(enc); err != nil || !reflect.DeepEqual(again, c) {
				t.Fatalf("config %q → %q → %+v, %v; want %+v", s, enc, again, err, c)
			}
		}
	})
}
