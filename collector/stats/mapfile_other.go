//go:build !unix

package stats

import (
	"fmt"
	"io"
	"os"
	"unsafe"
)

// mapFile reads f into memory (no mmap on this platform), without a second copy.
func mapFile(f *os.File, size int64) (string, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if size == 0 {
		return "", nil
	}
	return unsafe.String(&b[0], len(b)), nil // b is never written again
}
