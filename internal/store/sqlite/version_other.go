//go:build !unix

package sqlite

import (
	"os"
	"sync"
)

// walIndex reads the WAL-index header of one database file with one
// read of the "-shm" file.
type walIndex struct {
	f    *os.File
	bufs sync.Pool // of *[2 * walHeaderSize]byte
}

// openWALIndex opens the "-shm" file of the database at path. It returns
// nil when there is none: every read then runs its statement.
func openWALIndex(path string) *walIndex {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil
	}
	w := &walIndex{f: f}
	w.bufs.New = func() any { return new([2 * walHeaderSize]byte) }
	if _, ok := w.version(); !ok {
		f.Close()
		return nil
	}
	return w
}

// version reads the header; ok is false when it cannot be trusted.
func (w *walIndex) version() (v walVersion, ok bool) {
	if w == nil {
		return v, false
	}
	buf := w.bufs.Get().(*[2 * walHeaderSize]byte)
	defer w.bufs.Put(buf)
	if n, err := w.f.ReadAt(buf[:], 0); err != nil || n != len(buf) {
		return v, false
	}
	if !trusted(buf[:walHeaderSize], buf[walHeaderSize:]) {
		return v, false
	}
	copy(v[:], buf[:walHeaderSize])
	return v, true
}

func (w *walIndex) close() error {
	if w == nil {
		return nil
	}
	return w.f.Close()
}
