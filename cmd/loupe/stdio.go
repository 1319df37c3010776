package main

import (
	"errors"
	"io"
	"os"
	"strings"
)

// The CLI contract: "-" as a file flag's value is stdin for an input and
// stdout for an output.

// openIn opens an input file; "-" is stdin (not closed by the caller's
// Close).
func openIn(stdin io.Reader, path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(stdin), nil
	}
	return os.Open(path)
}

// displayName names a file flag's value in messages.
func displayName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// oneStdin refuses two inputs both read from stdin: the first would
// swallow the second.
func oneStdin(flags map[string]string) error {
	var names []string
	for _, name := range []string{"candidate", "set", "redflag", "golden"} {
		if flags[name] == "-" {
			names = append(names, "--"+name)
		}
	}
	if len(names) > 1 {
		return usageErr("%s all read stdin (-): give at most one of them as -", strings.Join(names, " and "))
	}
	return nil
}

// writeOut writes b to path atomically (a temp file renamed into place), or
// to stdout for "-".
func writeOut(stdout io.Writer, path string, b []byte) error {
	if path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	tmp, err := os.CreateTemp(dirOf(path), ".loupe-out-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return nil
}
