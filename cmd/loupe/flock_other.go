//go:build !unix

package main

// dirLocked cannot tell without flock: a leftover restore directory is
// taken as stale.
func dirLocked(string) bool { return false }
