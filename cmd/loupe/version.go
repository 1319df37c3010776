package main

import "runtime/debug"

// Stamped by `make build`: -ldflags "-X main.version=... -X main.commit=...".
var version, commit string

// versionInfo is the version and commit `loupe --version` prints: the
// stamped ones, else what the Go toolchain recorded in the binary (the
// module's version, a pseudo-version when built in a git checkout, and
// vcs.revision), else "devel" and no commit.
func versionInfo(info *debug.BuildInfo, ok bool) (string, string) {
	v, c := version, commit
	if ok && info != nil {
		if v == "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	return v, c
}
