package backup_test

import (
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// FuzzParseObjectID: every id in a path, a body or a flag goes through
// ParseObjectID. It accepts exactly 24 lowercase hexadecimal digits, and
// an id it accepts prints back as the same string.
func FuzzParseObjectID(f *testing.F) {
	for _, s := range []string{"5e2211c17a3e5a48f5497de3", "5E2211C17A3E5A48F5497DE3", "5e2211c17a3e5a48f5497de", "5e2211c17a3e5a48f5497de3\x00",
		"zz2211c17a3e5a48f5497de3", "", "５e2211c17a3e5a48f5497de3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := backup.ParseObjectID(s)
		want := len(s) == 24
		for i := 0; i < len(s) && want; i++ {
			c := s[i]
			want = '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
		}
		if ok != want {
			t.Fatalf("ParseObjectID(%q) ok = %v", s, ok)
		}
		if ok && id.Hex() != s {
			t.Fatalf("ParseObjectID(%q).Hex() = %q", s, id.Hex())
		}
		if !ok && id != backup.NilObjectID {
			t.Fatalf("ParseObjectID(%q) refused but returned %v", s, id)
		}
	})
}
