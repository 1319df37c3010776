//go:build unix

package main

import (
	"os"
	"syscall"
)

// dirLocked reports whether a process holds Badger's lock on dir (an
// exclusive flock on the directory itself, released when the holder dies,
// kill -9 included).
func dirLocked(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return err == syscall.EWOULDBLOCK
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
