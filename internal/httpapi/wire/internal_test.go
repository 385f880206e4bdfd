package wire

import (
	"strings"
	"testing"
)

// TestPlainPrefix: the word-at-a-time scan stops where the byte-at-a-time
// rule does, for each byte value at each position of a word and of the
// tail after the last whole word.
func TestPlainPrefix(t *testing.T) {
	naive := func(s string) int {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				return i
			}
		}
		return len(s)
	}
	for n := 1; n <= 19; n++ {
		for pos := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("a/Z~ ", 4)[:n])
				b[pos] = byte(c)
				s := string(b)
				if got, want := plainPrefix(s), naive(s); got != want {
					t.Fatalf("plainPrefix(%q) = %d, want %d", s, got, want)
				}
			}
		}
	}
}
