package gateway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// The spool's file format, small and of its own (a write-ahead log such as
// github.com/tidwall/wal keeps no checksum and refuses to open a log whose
// last entry is torn, the very case a spool must survive):
//
//	segment: spoolMagic, then records one after another
//	record:  length (uint32, little endian) | CRC32C of the payload (uint32) | payload
//	payload: version (1) | event id (16 bytes) | created_at (varint, Unix µs) |
//	         flags (1: bit 0 a duration follows, bit 1 created_at is zero) |
//	         duration (float64 bits, 8 bytes, when flagged) |
//	         text fields (uvarint count, then each as uvarint length + bytes) |
//	         JSON fields (uvarint count, then each as uvarint length+1 + bytes, 0 for nil)
//
// Fields come in the order of db.AuditLogCreate's TextField and JSONField;
// a reader takes as many as it knows of and ignores the rest.
const (
	spoolMagic      = "MCPSPL1\n"
	spoolHeaderLen  = 8
	spoolVersion    = 1
	maxSpoolPayload = 8 << 20 // far above any repaired event
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errCorrupt = errors.New("corrupt spool record")

// appendRecord appends ev, repaired and checked, to dst as one record.
func appendRecord(dst []byte, ev *db.AuditLogCreate) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, spoolHeaderLen)...)
	dst = append(dst, spoolVersion)
	dst = append(dst, ev.EventID[:]...)
	var flags byte
	if ev.DurationMS != nil {
		flags |= 1
	}
	if ev.CreatedAt.IsZero() {
		flags |= 2
	}
	dst = binary.AppendVarint(dst, ev.CreatedAt.UnixMicro())
	dst = append(dst, flags)
	if ev.DurationMS != nil {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(*ev.DurationMS))
	}
	dst = binary.AppendUvarint(dst, db.NumAuditText)
	for i := range db.NumAuditText {
		_, p := ev.TextField(i)
		dst = binary.AppendUvarint(dst, uint64(len(*p)))
		dst = append(dst, *p...)
	}
	dst = binary.AppendUvarint(dst, db.NumAuditJSON)
	for i := range db.NumAuditJSON {
		_, p := ev.JSONField(i)
		if *p == nil {
			dst = append(dst, 0)
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(len(*p))+1)
		dst = append(dst, *p...)
	}
	payload := dst[start+spoolHeaderLen:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, castagnoli))
	return dst
}

// nextRecord reads the record at the start of b: its payload and length in
// all. It returns n = 0 when b holds only part of a record, and errCorrupt
// when the record cannot be one (a length out of bounds, a checksum that
// does not match).
func nextRecord(b []byte) (payload []byte, n int, err error) {
	if len(b) < spoolHeaderLen {
		return nil, 0, nil
	}
	size := binary.LittleEndian.Uint32(b)
	if size == 0 || size > maxSpoolPayload {
		return nil, 0, errCorrupt
	}
	n = spoolHeaderLen + int(size)
	if len(b) < n {
		return nil, 0, nil
	}
	payload = b[spoolHeaderLen:n]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, errCorrupt
	}
	return payload, n, nil
}

// decodeEvent decodes a payload appendRecord wrote. The event shares no
// bytes with p: its text lives in one string, its documents in one slice.
func decodeEvent(p []byte) (db.AuditLogCreate, error) {
	var ev db.AuditLogCreate
	if len(p) < 1+16 || p[0] != spoolVersion {
		return ev, errCorrupt
	}
	copy(ev.EventID[:], p[1:17])
	p = p[17:]
	created, k := binary.Varint(p)
	if k <= 0 || len(p) < k+1 {
		return ev, errCorrupt
	}
	flags := p[k]
	p = p[k+1:]
	if flags&2 == 0 {
		ev.CreatedAt = time.UnixMicro(created).UTC()
	}
	if flags&1 != 0 {
		if len(p) < 8 {
			return ev, errCorrupt
		}
		d := math.Float64frombits(binary.LittleEndian.Uint64(p))
		ev.DurationMS = &d
		p = p[8:]
	}
	// Two copies: the text fields become substrings of one string, the
	// documents slices of one byte slice, and nothing holds p.
	off := 0
	uvarint := func() (uint64, bool) {
		v, k := binary.Uvarint(p[off:])
		off += max(k, 0)
		return v, k > 0
	}
	var texts [db.NumAuditText][2]int
	n, ok := uvarint()
	if !ok || n > 1<<16 {
		return ev, errCorrupt
	}
	for i := range int(n) {
		size, ok := uvarint()
		if !ok || size > uint64(len(p)-off) {
			return ev, errCorrupt
		}
		if i < db.NumAuditText {
			texts[i] = [2]int{off, off + int(size)}
		}
		off += int(size)
	}
	text := string(p[:off])
	for i := range min(int(n), db.NumAuditText) {
		_, f := ev.TextField(i)
		*f = text[texts[i][0]:texts[i][1]]
	}
	p = bytes.Clone(p[off:])
	off = 0
	if n, ok = uvarint(); !ok || n > 1<<16 {
		return ev, errCorrupt
	}
	for i := range int(n) {
		size, ok := uvarint()
		if !ok || size > uint64(len(p)-off)+1 {
			return ev, errCorrupt
		}
		if size == 0 {
			continue // nil
		}
		doc := p[off : off+int(size)-1 : off+int(size)-1]
		off += int(size) - 1
		if i < db.NumAuditJSON {
			_, f := ev.JSONField(i)
			*f = doc
		}
	}
	if off != len(p) {
		return ev, errCorrupt
	}
	return ev, nil
}
