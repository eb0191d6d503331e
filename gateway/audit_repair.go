package gateway

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
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
// So an event repaired passes Checked (FuzzAuditRepair holds it so).

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

// repairDoc returns doc as it is stored: secrets hidden, in canonical form,
// at most maxBytes long, or a marker object when it cannot be stored; and
// whether it was repaired (more than redacted).
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
		// The common case: small, in canonical form (as the store will
		// write it) before anything else.
		c, err := db.CanonicalJSON(fixed)
		if err != nil {
			return invalidMarker(size, err.Error()), true
		}
		out, _, err := r.redact(c, false)
		if err != nil { // cannot happen: c is valid JSON
			return invalidMarker(size, err.Error()), true
		}
		return r.storable(out, size, maxBytes, repaired)
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

// eventIDs hands out UUIDv7 event ids whose random bits come from buffers
// filled from crypto/rand a page at a time, rather than from a system call
// each.
var eventIDs = sync.Pool{New: func() any { return bufio.NewReaderSize(rand.Reader, 4096) }}

func newEventID() uuid.UUID {
	r := eventIDs.Get().(*bufio.Reader)
	id, err := uuid.NewV7FromReader(r)
	eventIDs.Put(r)
	if err != nil { // crypto/rand does not fail on supported systems
		return uuid.Must(uuid.NewV7())
	}
	return id
}

// repair makes ev ready to queue: refused (a *db.Error, ErrInvalid) when
// the program got it wrong, else repaired field by field as described
// above, given an event id and a time, and checked in the form it is
// stored in. It reports whether a field had to be repaired.
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
	checked, err := ev.Checked()
	if err != nil {
		// The repairs above leave nothing Checked refuses; should a
		// document still be refused, it is replaced rather than the event
		// lost.
		a.opts.Logger.Error("audit event refused after repair", "event_id", ev.EventID, "err", err)
		for i := range db.NumAuditJSON {
			if field, p := ev.JSONField(i); isField(err, field) {
				*p = invalidMarker(len(*p), "refused by the store")
			}
		}
		if checked, err = ev.Checked(); err != nil {
			return repaired, err
		}
		repaired = true
	}
	*ev = checked
	return repaired, nil
}

func isField(err error, field string) bool {
	e, ok := err.(*db.Error)
	return ok && e.Field == field
}
