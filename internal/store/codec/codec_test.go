package codec

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/checkpointd/checkpointd/internal/backup"
)

var (
	t0 = time.Date(2024, 3, 1, 12, 30, 45, 0, time.UTC)

	sample = []backup.Part{
		{Type: backup.PartReplicaSet, ShardName: "Cluster0-shard-0", ReplicaSetName: "Cluster0-shard-0",
			TokenDiscovered: true, TokenTimestamp: backup.BSONTimestamp{Date: t0, Increment: 1}},
		{Type: backup.PartReplicaSet, ShardName: "Cluster0-shard-1", ReplicaSetName: "Cluster0-shard-1",
			TokenDiscovered: false, TokenTimestamp: backup.BSONTimestamp{Date: t0.Add(time.Second), Increment: math32}},
		{Type: backup.PartConfigServer, HostID: "f0a1b2c3d4e5f6a7b8c9d0e1", TokenDiscovered: true,
			TokenTimestamp: backup.BSONTimestamp{Date: t0, Increment: 7}},
		{Type: backup.PartConfigReplicaSet, ReplicaSetName: "Cluster0-config-0", TokenDiscovered: true,
			TokenTimestamp: backup.BSONTimestamp{Date: t0, Increment: 2}},
	}
)

const math32 = 1<<32 - 1

func TestRoundTrip(t *testing.T) {
	cases := map[string][]backup.Part{
		"none":     nil,
		"sample":   sample,
		"zeroTime": {{Type: backup.PartReplicaSet, ReplicaSetName: "rs0"}},
		"preEpoch": {{Type: backup.PartReplicaSet, ReplicaSetName: "rs0",
			TokenTimestamp: backup.BSONTimestamp{Date: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		"unknownType": {{Type: "SOMETHING_NEW", ShardName: "s"}, {Type: "", ShardName: "t"}},
		"unicode":     {{Type: backup.PartReplicaSet, ShardName: "шард-0", ReplicaSetName: "シャード"}},
	}
	for name, parts := range cases {
		t.Run(name, func(t *testing.T) {
			b := AppendParts(nil, parts)
			if b[0] != Version {
				t.Fatalf("first byte %d, want version %d", b[0], Version)
			}
			for _, dec := range []func([]byte) ([]backup.Part, error){DecodeParts, new(Decoder).Decode} {
				got, err := dec(b)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, parts) {
					t.Fatalf("round trip:\n got %+v\nwant %+v", got, parts)
				}
			}
		})
	}
}

func TestZeroTimeStaysZero(t *testing.T) {
	got, err := DecodeParts(AppendParts(nil, []backup.Part{{Type: backup.PartReplicaSet}}))
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].TokenTimestamp.Date.IsZero() {
		t.Fatalf("zero time decoded as %v", got[0].TokenTimestamp.Date)
	}
}

func TestTruncatesToUTCSeconds(t *testing.T) {
	local := time.FixedZone("X", 3600)
	in := []backup.Part{{Type: backup.PartReplicaSet, TokenTimestamp: backup.BSONTimestamp{
		Date: t0.In(local).Add(999 * time.Millisecond), Increment: 3}}}
	got, err := DecodeParts(AppendParts(nil, in))
	if err != nil {
		t.Fatal(err)
	}
	if d := got[0].TokenTimestamp.Date; d != t0 || d.Location() != time.UTC {
		t.Fatalf("got %v (%v), want %v UTC", d, d.Location(), t0)
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	b := AppendParts([]byte("prefix"), sample)
	if !bytes.HasPrefix(b, []byte("prefix")) {
		t.Fatal("prefix lost")
	}
	if _, err := DecodeParts(b[len("prefix"):]); err != nil {
		t.Fatal(err)
	}
}

func TestDecoderInterns(t *testing.T) {
	b := AppendParts(nil, sample)
	var d Decoder
	p1, err := d.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := d.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if unsafeData(p1[0].ShardName) != unsafeData(p2[0].ShardName) {
		t.Error("shard name not interned across calls")
	}
	if unsafeData(p1[0].ShardName) != unsafeData(p1[0].ReplicaSetName) {
		t.Error("equal shard and replica set names not shared")
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := d.Decode(b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Decode with a warm Decoder: %v allocs, want 1 (the parts slice)", allocs)
	}
	d.Reset()
	if len(d.names) != 0 {
		t.Error("Reset kept names")
	}
}

func TestDecodeAppend(t *testing.T) {
	b := AppendParts(nil, sample)
	var d Decoder
	arena := make([]backup.Part, 0, 2*len(sample))
	arena, err := d.DecodeAppend(arena, b)
	if err != nil {
		t.Fatal(err)
	}
	first := arena[:len(sample):len(sample)]
	arena, err = d.DecodeAppend(arena, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(arena) != 2*len(sample) || !reflect.DeepEqual(first, sample) || !reflect.DeepEqual(arena[len(sample):], sample) {
		t.Fatalf("DecodeAppend: %+v", arena)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := d.DecodeAppend(arena[:0], b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("DecodeAppend into room: %v allocs, want 0", allocs)
	}
	// A failed decode leaves dst's contents alone.
	before := len(arena)
	arena, err = d.DecodeAppend(arena, b[:len(b)-1])
	if err == nil || len(arena) != before {
		t.Fatalf("corrupt DecodeAppend: err %v, len %d -> %d", err, before, len(arena))
	}
}

func TestCorrupt(t *testing.T) {
	good := AppendParts(nil, sample)
	// One part with empty strings: version, count, type, three lengths,
	// then the flag at index 6.
	one := AppendParts(nil, []backup.Part{{Type: backup.PartReplicaSet}})
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"version 0", []byte{0, 0}, ErrUnknownFormat},
		{"version 2", append([]byte{2}, good[1:]...), ErrUnknownFormat},
		{"no count", []byte{Version}, ErrCorrupt},
		{"bad count varint", []byte{Version, 0x80}, ErrCorrupt},
		{"count beyond input", []byte{Version, 0xff, 0xff, 0xff, 0xff, 0x0f}, ErrCorrupt},
		{"trailing byte", append(bytes.Clone(good), 0), ErrCorrupt},
		{"trailing byte after zero count", []byte{Version, 0, 0}, ErrCorrupt},
		{"unknown type byte", mutate(good, 2, 9), ErrCorrupt},
		{"flag not 0 or 1", mutate(one, 6, 2), ErrCorrupt},
		{"increment over 32 bits", []byte{Version, 1, typeReplicaSet, 0, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10}, ErrCorrupt},
		{"string past the end", []byte{Version, 1, typeReplicaSet, 100, 0, 0, 0, 0, 0}, ErrCorrupt},
		{"type name past the end", []byte{Version, 1, typeOther, 100, 0, 0, 0, 0, 0}, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeParts(c.b)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v (parts %+v)", err, c.want, got)
			}
			if got != nil {
				t.Fatalf("parts %+v alongside error", got)
			}
		})
	}
	// Every truncation of a valid encoding is an error, never a panic.
	for i := range len(good) {
		if _, err := DecodeParts(good[:i]); err == nil {
			t.Errorf("truncated to %d of %d bytes: no error", i, len(good))
		}
	}
}

func mutate(b []byte, i int, v byte) []byte {
	c := bytes.Clone(b)
	c[i] = v
	return c
}

func FuzzDecodeParts(f *testing.F) {
	f.Add(AppendParts(nil, sample))
	f.Add(AppendParts(nil, nil))
	f.Add(AppendParts(nil, []backup.Part{{Type: "X", HostID: "h"}}))
	f.Add([]byte{Version, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decoder
		parts, err := d.Decode(b)
		if err != nil {
			if parts != nil {
				t.Fatalf("error %v with parts %+v", err, parts)
			}
			return
		}
		// What decodes re-encodes to something that decodes the same.
		again, err := DecodeParts(AppendParts(nil, parts))
		if err != nil {
			t.Fatalf("re-encoding of %+v does not decode: %v", parts, err)
		}
		if !reflect.DeepEqual(again, parts) {
			t.Fatalf("re-decode differs:\n%+v\n%+v", again, parts)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	enc := AppendParts(nil, sample)
	b.Run("DecodeParts", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeParts(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decoder", func(b *testing.B) {
		var d Decoder
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// unsafeData is where a string's bytes live, to tell a shared string from
// an equal copy.
func unsafeData(s string) *byte { return unsafe.StringData(s) }
