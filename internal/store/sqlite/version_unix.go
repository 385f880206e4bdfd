//go:build unix

package sqlite

import (
	"encoding/binary"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// walIndex maps the WAL-index header of one database file, as SQLite's
// own connections do: a read of it costs no system call.
type walIndex struct {
	mem []byte
}

// openWALIndex maps the header of the "-shm" file of the database at
// path. It returns nil when there is none: every read then runs its
// statement.
func openWALIndex(path string) *walIndex {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil
	}
	defer f.Close() // the mapping outlives the descriptor
	if fi, err := f.Stat(); err != nil || fi.Size() < 2*walHeaderSize {
		return nil
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 2*walHeaderSize, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	w := &walIndex{mem: mem}
	if _, ok := w.version(); !ok {
		_ = syscall.Munmap(mem)
		return nil
	}
	return w
}

// version reads the header as SQLite's readers do: the first copy, then
// the second, word by word with atomic loads (so in this order, whatever
// the processor); ok is false when it cannot be trusted.
func (w *walIndex) version() (v walVersion, ok bool) {
	if w == nil {
		return v, false
	}
	// The file is never shortened while this process has the database
	// open (SQLite truncates it only when no connection holds it), so no
	// read faults; should one fault anyway, the header is untrusted
	// rather than the process killed.
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var buf [2 * walHeaderSize]byte
	base := unsafe.Pointer(unsafe.SliceData(w.mem))
	for i := 0; i < len(buf); i += 4 {
		binary.NativeEndian.PutUint32(buf[i:], atomic.LoadUint32((*uint32)(unsafe.Add(base, i))))
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
	return syscall.Munmap(w.mem)
}
