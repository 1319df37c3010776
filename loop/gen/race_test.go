//go:build race

package gen

// The race detector slows this package's byte loops and encoding/json by
// two orders of magnitude; the heaviest tests trim their work under it.
const raceEnabled = true
