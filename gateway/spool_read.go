package gateway

import (
	"errors"
	"io"
	"os"

	"github.com/mcpstore/mcpstore/db"
)

// spoolReader reads a spool's segments back, oldest first, following the
// active one as it grows. Only the collector uses it.
type spoolReader struct {
	s    *spool
	seg  *segment // the segment being read, or nil
	last uint64   // the number of the last segment read
	file *os.File
	off  int64  // the file offset after buf
	buf  []byte // read, not yet parsed: buf[pos:]
	pos  int
	// skipping: the rest of seg is given up, and the reader waits for the
	// flusher to seal it (corruption in the active segment: a failing
	// disk).
	skipping bool

	// corrupt is called once per segment whose tail is skipped, with the
	// bytes skipped.
	corrupt func(seg *segment, skipped int64, err error)
}

// next returns the next event of the spool and its segment. ok is false
// when no event is readable now; done is true once the spool is closed
// and every segment read.
func (r *spoolReader) next() (ev db.AuditLogCreate, seg *segment, ok, done bool) {
	for {
		if r.seg == nil {
			if r.seg = r.s.after(r.last); r.seg == nil {
				select {
				case <-r.s.stopped:
					return ev, nil, false, r.s.after(r.last) == nil
				default:
					return ev, nil, false, false
				}
			}
			if err := r.open(); err != nil {
				r.skip(0, err)
				continue
			}
		}
		sealed := r.seg.sealed.Load() // before written: once sealed, written is final
		limit := r.seg.written.Load()
		if r.skipping {
			if !sealed {
				return ev, nil, false, false
			}
			r.finish()
			continue
		}
		if r.pos < len(r.buf) {
			payload, n, err := nextRecord(r.buf[r.pos:])
			if err == nil && n > 0 {
				r.pos += n
				ev, err = decodeEvent(payload)
				if err == nil {
					r.s.handed(r.seg, 1)
					return ev, r.seg, true, false
				}
			}
			if err != nil {
				r.skip(limit-r.off+int64(len(r.buf)-r.pos), err)
				continue
			}
		}
		if r.off < limit {
			if err := r.fill(limit); err != nil {
				r.skip(limit-r.off+int64(len(r.buf)-r.pos), err)
			}
			continue
		}
		if !sealed {
			return ev, nil, false, false // the active segment: more will come
		}
		if r.pos < len(r.buf) {
			r.skip(int64(len(r.buf)-r.pos), errTornTail) // a record cut short
			continue
		}
		r.finish()
	}
}

var errTornTail = errors.New("torn record at the end of a segment")

// open opens r.seg and checks its header.
func (r *spoolReader) open() error {
	f, err := os.Open(r.seg.path)
	if err != nil {
		return err
	}
	r.file, r.buf, r.pos = f, r.buf[:0], 0
	var head [spoolHeaderLen]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || string(head[:]) != spoolMagic {
		if err == nil {
			err = errCorrupt
		}
		return err
	}
	r.off = spoolHeaderLen
	return nil
}

// fill reads what follows buf, up to limit.
func (r *spoolReader) fill(limit int64) error {
	if r.pos > 0 {
		n := copy(r.buf, r.buf[r.pos:])
		r.buf, r.pos = r.buf[:n], 0
	}
	want := int(min(limit-r.off, spoolReadBytes))
	if len(r.buf) >= spoolHeaderLen {
		// A record longer than what is read at a time: read all of it.
		if _, n, err := nextRecord(r.buf); n == 0 && err == nil {
			size := int(uint32(r.buf[0]) | uint32(r.buf[1])<<8 | uint32(r.buf[2])<<16 | uint32(r.buf[3])<<24)
			want = int(min(limit-r.off, int64(max(want, spoolHeaderLen+size-len(r.buf)))))
		}
	}
	if cap(r.buf)-len(r.buf) < want {
		r.buf = append(make([]byte, 0, len(r.buf)+want), r.buf...)
	}
	n, err := r.file.ReadAt(r.buf[len(r.buf):len(r.buf)+want], r.off)
	r.buf = r.buf[:len(r.buf)+n]
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return err
}

// skip gives up on the rest of the segment: its tail is torn or corrupt.
func (r *spoolReader) skip(bytes int64, err error) {
	if r.corrupt != nil {
		r.corrupt(r.seg, bytes, err)
	}
	if r.seg.sealed.Load() {
		r.finish()
	} else {
		r.skipping = true
	}
}

// finish closes the segment, which the reader is past.
func (r *spoolReader) finish() {
	if r.file != nil {
		r.file.Close()
		r.file = nil
	}
	r.s.readDone(r.seg)
	r.last = r.seg.seq
	r.seg, r.buf, r.pos, r.skipping = nil, r.buf[:0], 0, false
	if cap(r.buf) > 4*spoolReadBytes {
		r.buf = nil
	}
}
