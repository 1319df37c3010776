package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
)

// UserHash reuses keyed hashes: every call, concurrent ones too, must
// still give HMAC-SHA256(secret, id), and a replaced secret (Restore) must
// not be served by a hash keyed with the old one.
func TestUserHashIsTheKeyedHash(t *testing.T) {
	st := openT(t)
	want := func(id string) string {
		m := hmac.New(sha256.New, st.secret)
		m.Write([]byte(id))
		return hex.EncodeToString(m.Sum(nil)[:16])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				id := fmt.Sprintf("u-%d-%d", g, i%7)
				if got := st.UserHash(id); got != want(id) {
					t.Errorf("UserHash(%q) = %s, want %s", id, got, want(id))
					return
				}
			}
		})
	}
	wg.Wait()
	old := st.UserHash("u-1")
	st.secret = append([]byte(nil), st.secret...)
	st.secret[0] ^= 1
	if got := st.UserHash("u-1"); got == old || got != want("u-1") {
		t.Fatalf("after a new secret: %s (old %s, want %s)", got, old, want("u-1"))
	}
}
