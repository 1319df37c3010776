// Command bodydict builds store/body.dict, the dictionary event bodies are
// compressed with (s2, see store/body.go): the masked bodies of events
// from loupe's own generator (loop/gen, seed 9: not the seed the
// benchmarks use), encoded exactly as the store keeps them, up to the
// 64 KB an s2 dictionary holds. A lone 1 KB body has little to match
// against; the dictionary gives it the schema's field names, common
// values and the masking placeholders, and holds no one's data. Its output
// is deterministic: the same dictionary comes out every time.
//
// Stored bodies name the dictionary they were compressed with (their
// marker byte): changing body.dict needs a new marker, with the old
// dictionary kept to read older stores.
//
// Usage: go run ./scripts/bodydict store/body.dict
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/klauspost/compress/s2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/gen"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bodydict OUT")
		os.Exit(2)
	}
	dict, err := build()
	if err == nil {
		err = os.WriteFile(os.Args[1], dict, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bodydict:", err)
		os.Exit(1)
	}
}

func build() ([]byte, error) {
	key := []byte("bodydict: not a store secret")
	userHash := func(u string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(u))
		return hex.EncodeToString(m.Sum(nil)[:16])
	}
	dict := make([]byte, 0, s2.MaxDictSize)
	err := gen.Generate(gen.Options{N: 1000, Seed: 9}, func(line []byte) error {
		in, err := loop.DecodeEvent(line)
		if err != nil {
			return err
		}
		ev, err := loop.Prepare(in, userHash)
		if err != nil {
			return nil // no consent: never stored
		}
		b := loop.AppendJSON(nil, ev)
		if len(dict)+len(b) <= s2.MaxDictSize {
			dict = append(dict, b...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(dict) < s2.MaxDictSize/2 {
		return nil, fmt.Errorf("only %d bytes of bodies", len(dict))
	}
	return dict, nil
}
