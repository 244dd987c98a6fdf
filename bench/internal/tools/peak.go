package tools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Peak is a command's peak memory, KiB.
type Peak struct {
	// RSS is the peak resident set (rusage Maxrss), executable pages
	// included; Floor is what it cannot be less than, the measuring
	// process's own size.
	RSS, Floor int64
	// Anon is the peak of the anonymous memory (sampled RssAnon): the heap
	// and stacks the command allocated.
	Anon int64
}

var runner = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "envctl-peakrss")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "peakrss")
	b := exec.Command("go", "build", "-o", bin, "github.com/envctl/envctl/bench/internal/peakrss")
	b.Stderr = os.Stderr
	return bin, b.Run()
})

// Measure rewrites cmd to run through peakrss (see there why a child's
// own Maxrss overstates it) and returns what reads its peak after Wait.
// Call it before Start.
func Measure(cmd *exec.Cmd) (read func() (Peak, error), err error) {
	bin, err := runner()
	if err != nil {
		return nil, fmt.Errorf("building peakrss: %w", err)
	}
	f, err := os.CreateTemp("", "envctl-peak")
	if err != nil {
		return nil, err
	}
	f.Close()
	cmd.Args = append([]string{bin, "-o", f.Name(), "--", cmd.Path}, cmd.Args[1:]...)
	cmd.Path = bin
	return func() (Peak, error) {
		defer os.Remove(f.Name())
		var p Peak
		b, err := os.ReadFile(f.Name())
		if err != nil {
			return p, err
		}
		if _, err := fmt.Sscan(string(b), &p.RSS, &p.Anon, &p.Floor); err != nil {
			return p, fmt.Errorf("peakrss wrote %q: %v", b, err)
		}
		return p, nil
	}, nil
}
