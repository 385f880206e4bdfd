package digest

import (
	"testing"
)

// BenchmarkVerifyReuse is the steady state of a client that keeps its
// nonce and counts up: parse the header, verify it, with the replay
// guard's bookkeeping. Counts run far beyond the window, so every
// iteration takes the "new highest count" path.
func BenchmarkVerifyReuse(b *testing.B) {
	for _, alg := range []Algorithm{MD5, SHA256} {
		b.Run(alg.String(), func(b *testing.B) {
			s, _ := newTestServer(b, func(c *Config) { c.Algorithms = []Algorithm{MD5, SHA256} })
			lookup := users(DefaultRealm, testUser, testPass)
			n := nonceOf(b, s.Challenge(false))
			// Pre-sign the headers: the client's cost is not the server's.
			const distinct = 1 << 12
			headers := make([]string, distinct)
			for i := range headers {
				headers[i] = creds(n, uint32(i+1), alg).String()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i > 0 && i%distinct == 0 {
					// Out of pre-signed counts: a fresh nonce, untimed.
					b.StopTimer()
					n = nonceOf(b, s.Challenge(false))
					for j := range headers {
						headers[j] = creds(n, uint32(j+1), alg).String()
					}
					b.StartTimer()
				}
				c, err := ParseAuthorization(headers[i%distinct])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Verify(b.Context(), "GET", testURI, c, lookup); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChallenge is the cost of a 401: one nonce, one header value.
func BenchmarkChallenge(b *testing.B) {
	s, _ := newTestServer(b, nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = s.Challenge(false)
	}
}

// BenchmarkParseAuthorization parses the official client's header.
func BenchmarkParseAuthorization(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseAuthorization(official); err != nil {
			b.Fatal(err)
		}
	}
}
