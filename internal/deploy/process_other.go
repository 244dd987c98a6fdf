//go:build !unix

package deploy

// processAlive cannot tell here: a lock is taken over after its TTL only.
func processAlive(int) bool { return true }
