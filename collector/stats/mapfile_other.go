//go:build !unix

package stats

import (
	"fmt"
	"io"
	"os"
)

// mapFile reads f into memory (no mmap on this platform).
func mapFile(f *os.File, size int64) (string, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return string(b), nil
}
