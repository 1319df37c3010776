package main

import (
	"bytes"
	"os"
	"testing"
)

// The dictionary built into the store is what this command builds: it can
// be rebuilt from the repository alone, and no one edits it by hand.
func TestBuiltInDictionaryIsReproducible(t *testing.T) {
	want, err := os.ReadFile("../../store/body.dict")
	if err != nil {
		t.Fatal(err)
	}
	got, err := build()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("store/body.dict (%d bytes) is not what bodydict builds (%d bytes): run go run ./scripts/bodydict store/body.dict, with a new marker in store/body.go", len(want), len(got))
	}
}
