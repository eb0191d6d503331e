package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/mcpstore/mcpstore/db"
)

// The repair of an event, before Record queues it: what a client sent is
// made storable, never a reason to drop the event; only what the
// embedding program got wrong is refused.
//
// The rule, for every field db.AuditLogCreate.Checked checks (the Auditor
// walks db's own list of them, TextField and JSONField, so none is left
// out):
//
//   - a required text field (request_id, action, resource_type, status)
//     left empty, or a duration that is not a finite number of
//     milliseconds, not negative, is the program's mistake: Record
//     refuses the event with ErrInvalid naming the field;
//   - in every text field, invalid UTF-8 becomes U+FFFD, NUL characters
//     are removed, and text longer than the field's limit is cut to it
//     (by characters), ending in "…[cut: N chars]" with N its length before
//     the cut; a required field emptied by this becomes "\uFFFD";
//   - in every JSON field, NUL characters (raw or \u0000) are removed and
//     invalid UTF-8 becomes U+FFFD; secrets are hidden (Redactor); a
//     document longer than MaxDataBytes in canonical form becomes the
//     truncation marker {"_size":N,"_preview":"...","_truncated":true};
//     one that still cannot be stored (not JSON, not an object, nested
//     deeper than db.MaxJSONDepth, numbers numeric cannot hold) becomes
//     {"_size":N,"_invalid":"why"}, N its size in bytes as given.
//
// So an event repaired passes Checked (FuzzAuditRepair holds it so),
// which the store runs when it stores the batch. Should the store still
// refuse one, the writer replaces the field it names (repairRefused) and
// stores the event then.

// cutMark ends a text cut to its field's limit.
const cutMark = "…[cut: %d chars]"

// repairText returns s made storable in a text field of max characters,
// and whether it changed.
func repairText(s string, max int, required bool) (string, bool) {
	if len(s) <= max && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s, false // the common case: at most max bytes, so at most max characters
	}
	out := s
	if !utf8.ValidString(out) {
		out = strings.ToValidUTF8(out, "\uFFFD")
	}
	if strings.IndexByte(out, 0) >= 0 {
		out = strings.ReplaceAll(out, "\x00", "")
	}
	if n := utf8.RuneCountInString(out); n > max {
		out = cutText(out, max, n)
	}
	if out == "" && required {
		out = "\uFFFD"
	}
	return out, out != s
}

// cutText returns the first characters of s, n characters long, and the
// cut mark, max characters in all; a new string, so that the rest of s
// can be collected.
func cutText(s string, max, n int) string {
	mark := strings.Replace(cutMark, "%d", strconv.Itoa(n), 1)
	keep := max - utf8.RuneCountInString(mark)
	if keep < 1 { // a limit too small for the mark
		keep, mark = max, ""
	}
	i := 0
	for range keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return strings.Clone(s[:i]) + mark
}

// repairDoc returns doc as the store will take it: what the store refuses
// removed where it can be (NUL characters, invalid UTF-8), its secrets
// hidden, at most maxBytes long in canonical form (or its truncation
// marker), or the marker of a document that cannot be stored; and whether
// it was repaired. A small document that needs no repair comes back as it
// is, redacted if need be, not in canonical form: the store writes that.
func (r *Redactor) repairDoc(doc json.RawMessage, maxBytes int) (json.RawMessage, bool) {
	if doc == nil {
		return nil, false
	}
	size := len(doc)
	fixed := []byte(doc)
	repaired := false
	if bytes.IndexByte(fixed, 0) >= 0 {
		fixed, repaired = bytes.ReplaceAll(fixed, []byte{0}, nil), true
	}
	if !utf8.Valid(fixed) {
		fixed, repaired = bytes.ToValidUTF8(fixed, []byte("\uFFFD")), true
	}
	escapedNUL := bytes.Contains(fixed, []byte(`\u0000`))
	if !escapedNUL && len(fixed) <= maxBytes {
		// The common case: redacted if it may hold a secret, then
		// checked as the store will check it, without writing its
		// canonical form (the store does, when it stores it).
		out, _, err := r.redact(fixed, false)
		if err != nil {
			return invalidMarker(size, err.Error()), true
		}
		bound, err := db.ScanObject(out)
		if err != nil {
			return invalidMarker(size, err.Error()), true
		}
		if bound <= maxBytes {
			return out, repaired
		}
		return r.storable(out, size, maxBytes, repaired) // it grows past the cap in canonical form
	}
	// Larger than the cap, or NULs to remove from inside strings: decoded
	// (and redacted) now, so that what is queued is small and storable.
	out, _, err := r.redact(fixed, escapedNUL)
	if err != nil {
		return invalidMarker(size, err.Error()), true
	}
	return r.storable(out, size, maxBytes, repaired || escapedNUL)
}

// storable returns doc, valid JSON, in canonical form and within maxBytes,
// or the marker that stands for it.
func (r *Redactor) storable(doc []byte, size, maxBytes int, repaired bool) (json.RawMessage, bool) {
	c, err := db.CanonicalJSON(doc)
	switch {
	case err != nil:
		return invalidMarker(size, err.Error()), true
	case c[0] != '{':
		return invalidMarker(size, "must be a JSON object"), true
	case len(c) > maxBytes:
		return truncated(c, maxBytes), repaired
	}
	return c, repaired
}

// invalidMarker is the object stored for a document that cannot be: its
// size as given and why, in canonical form.
func invalidMarker(size int, why string) json.RawMessage {
	// why is a message of db or of the decoder, plain text: kept printable
	// and free of quotes, it needs no escaping.
	why = strings.Map(func(c rune) rune {
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			return -1
		}
		return c
	}, why)
	return json.RawMessage(`{"_size":` + strconv.Itoa(size) + `,"_invalid":"` + why + `"}`)
}

// programError is the error of an event the embedding program got wrong.
func programError(field, msg string) error {
	return &db.Error{Op: "Auditor.Record", Kind: db.ErrInvalid, Field: field, Msg: msg}
}

// randomBytes is a page of bytes from crypto/rand, handed out 8 at a
// time: a system call per page, not per event id.
type randomBytes struct {
	buf [4096]byte
	n   int // bytes handed out
}

var eventIDs = sync.Pool{New: func() any { return &randomBytes{n: 4096} }}

// newEventID returns a UUIDv7 (RFC 9562): the time in milliseconds, the
// fraction of the millisecond in the 12 bits after the version, so that
// ids taken in order sort in order (new rows land at the right edge of
// the event id index), and 62 random bits. Unlike uuid.NewV7 it takes no
// lock: ids taken within one 244 ns step may sort either way, which no
// reader relies on.
func newEventID() uuid.UUID {
	r := eventIDs.Get().(*randomBytes)
	if r.n+8 > len(r.buf) {
		if _, err := rand.Read(r.buf[:]); err != nil { // crypto/rand does not fail on supported systems
			eventIDs.Put(r)
			return uuid.Must(uuid.NewV7())
		}
		r.n = 0
	}
	var id uuid.UUID
	copy(id[8:], r.buf[r.n:r.n+8])
	r.n += 8
	eventIDs.Put(r)
	now := time.Now().UnixNano()
	ms, frac := now/1e6, now%1e6
	binary.BigEndian.PutUint64(id[:8], uint64(ms)<<16|uint64(frac*4096/1e6))
	id[6] = 0x70 | id[6]&0x0f // version 7
	id[8] = 0x80 | id[8]&0x3f // the RFC 9562 variant
	return id
}

// repair makes ev ready to queue: refused (a *db.Error, ErrInvalid) when
// the program got it wrong, else repaired field by field as described
// above and given an event id and a time, so that Checked accepts it. It
// reports whether a field had to be repaired.
func (a *Auditor) repair(ev *db.AuditLogCreate) (bool, error) {
	for i := range db.NumAuditText {
		if f, p := ev.TextField(i); f.Required && *p == "" {
			return false, programError(f.Name, "required")
		}
	}
	if d := ev.DurationMS; d != nil && (math.IsNaN(*d) || math.IsInf(*d, 0) || *d < 0) {
		return false, programError("duration_ms", "must be a finite number of milliseconds, not negative")
	}
	if ev.EventID == (uuid.UUID{}) {
		ev.EventID = newEventID()
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = time.Now()
	}
	repaired := false
	for i := range db.NumAuditText {
		f, p := ev.TextField(i)
		if s, ok := repairText(*p, f.Max, f.Required); ok {
			*p, repaired = s, true
		}
	}
	for i := range db.NumAuditJSON {
		_, p := ev.JSONField(i)
		doc, ok := a.redact.repairDoc(*p, a.maxData)
		*p, repaired = doc, repaired || ok
	}
	return repaired, nil
}

// repairRefused is the last resort for an event the store refused although
// repair passed it (which FuzzAuditRepair holds cannot happen): the field
// it names is replaced by its marker, or repaired again, so that the event
// is stored rather than lost. It reports whether it changed anything.
func repairRefused(ev *db.AuditLogCreate, err error) bool {
	var dbErr *db.Error
	if !errors.As(err, &dbErr) || !errors.Is(err, db.ErrInvalid) {
		return false
	}
	for i := range db.NumAuditJSON {
		if field, p := ev.JSONField(i); field == dbErr.Field && *p != nil {
			*p = invalidMarker(len(*p), dbErr.Msg)
			return true
		}
	}
	for i := range db.NumAuditText {
		if f, p := ev.TextField(i); f.Name == dbErr.Field {
			s, changed := repairText(strings.ToValidUTF8(*p, "\uFFFD"), f.Max, true)
			*p = s
			return changed
		}
	}
	return false
}
