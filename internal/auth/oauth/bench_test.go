package oauth

import (
	"context"
	"testing"
)

// BenchmarkVerify is the cost every bearer-authenticated request pays
// (with a revocation checker that answers at once; the real one adds its
// store lookup).
func BenchmarkVerify(b *testing.B) {
	tk, _, _ := fixture(b, ring(b, keyA, keyB))
	tok, _, _ := tk.Issue(testClient)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyParallel is Verify from all cores at once, where the
// pooled HMAC state matters.
func BenchmarkVerifyParallel(b *testing.B) {
	tk, _, _ := fixture(b, ring(b, keyA, keyB))
	tok, _, _ := tk.Issue(testClient)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tk.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyForged is the cost of rejecting a token with a bad
// signature: what a flood of forgeries costs the server.
func BenchmarkVerifyForged(b *testing.B) {
	tk, _, _ := fixture(b, ring(b, keyA))
	tok, _, _ := tk.Issue(testClient)
	tok = tok[:len(tok)-2] + "AA"
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Verify(ctx, tok); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkBearerToken(b *testing.B) {
	tk, _, _ := fixture(b, ring(b, keyA))
	tok, _, _ := tk.Issue(testClient)
	h := "Bearer " + tok
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := BearerToken(h); !ok {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	tk, _, _ := fixture(b, ring(b, keyA))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tk.Issue(testClient); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompareSecret is the deliberate cost of one token request.
func BenchmarkCompareSecret(b *testing.B) {
	sk := NewClientSecret()
	h := HashSecret(sk)
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := CompareSecret(h, sk); !ok {
			b.Fatal("mismatch")
		}
	}
}
