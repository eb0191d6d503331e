package db

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
)

// maxCanonDepth bounds the nesting the fast paths follow: the JSON rule's.
// Deeper documents take the decoding path, which refuses them.
const maxCanonDepth = MaxJSONDepth

// isCanonical reports whether raw, valid UTF-8, is one JSON value already
// in the form CanonicalJSON writes, by one pass over its bytes that
// allocates nothing. It is conservative: it answers false for anything it
// does not recognise as canonical at a glance (whitespace, escapes other
// than the short ones, numbers with an exponent or a leading "-0", keys
// with escapes or out of jsonb's order, duplicate keys, deep nesting), and
// CanonicalJSON then decodes and rewrites the document, which decides.
// So whenever it answers true, rewriting raw would give raw back byte for
// byte (FuzzCanonicalFastPath holds it so).
func isCanonical(raw []byte) bool {
	s := canonScan{b: raw}
	return s.value(0) && s.i == len(s.b)
}

type canonScan struct {
	b []byte
	i int
}

func (s *canonScan) value(depth int) bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return depth < maxCanonDepth && s.object(depth+1)
	case c == '[':
		return depth < maxCanonDepth && s.array(depth+1)
	case c == '"':
		_, ok := s.str()
		return ok
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *canonScan) lit(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// number accepts the plain numbers plainNumber leaves as they are:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?, without a leading "-0", with no more
// digits than numeric holds.
func (s *canonScan) number() bool {
	if s.b[s.i] == '-' {
		s.i++
		if s.i >= len(s.b) || s.b[s.i] == '0' {
			return false
		}
	}
	switch {
	case s.i >= len(s.b):
		return false
	case s.b[s.i] == '0':
		s.i++
	case '1' <= s.b[s.i] && s.b[s.i] <= '9':
		if s.digits() > maxNumericDigits {
			return false
		}
	default:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if n := s.digits(); n == 0 || n > maxNumericScale {
			return false
		}
	}
	return s.i == len(s.b) || (s.b[s.i] != 'e' && s.b[s.i] != 'E' && !isDigit(s.b[s.i]))
}

func (s *canonScan) digits() int {
	start := s.i
	for s.i < len(s.b) && isDigit(s.b[s.i]) {
		s.i++
	}
	return s.i - start
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// str accepts a string whose only escapes are those writeString writes in
// short form, and returns its bytes between the quotes.
func (s *canonScan) str() ([]byte, bool) {
	s.i++ // the opening quote
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c < 0x20:
			return nil, false
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return nil, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			default: // \u and \/ may not be canonical
				return nil, false
			}
		default:
			s.i++
		}
	}
	return nil, false
}

// object accepts an object whose keys, free of escapes, come in jsonb's
// order (shorter first, then byte order) with no key twice.
func (s *canonScan) object(depth int) bool {
	s.i++ // {
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	var prev []byte
	for n := 0; ; n++ {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		k, ok := s.str()
		if !ok || bytes.IndexByte(k, '\\') >= 0 {
			return false
		}
		if n > 0 && !keyLess(prev, k) {
			return false
		}
		prev = k
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		if !s.value(depth) || s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *canonScan) array(depth int) bool {
	s.i++ // [
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if !s.value(depth) || s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// rewriteCanonical writes raw, valid UTF-8, in canonical form without
// decoding it into Go values: members of each object are copied as they
// are written and then put in jsonb's key order, whitespace is dropped.
// Like isCanonical it handles the common documents only (no escapes but the
// short ones, plain numbers, keys without escapes and without duplicates,
// limited nesting) and reports false for any other, which CanonicalJSON
// then decodes; FuzzCanonicalFastPath holds its output to the decoding
// path's.
func rewriteCanonical(raw []byte) (json.RawMessage, bool) {
	w := canonWriters.Get().(*canonWriter)
	defer w.release()
	return w.rewrite(raw)
}

// rewrite is rewriteCanonical on w's buffers.
func (w *canonWriter) rewrite(raw []byte) (json.RawMessage, bool) {
	w.canonScan = canonScan{b: raw}
	w.ws()
	out, ok := w.value(make([]byte, 0, len(raw)), 0)
	w.ws()
	if !ok || w.i != len(w.b) {
		return nil, false
	}
	return out, true
}

type canonWriter struct {
	canonScan
	members []member // the members of the objects being written, innermost last
	scratch []byte   // an object's members while they are put in order
}

// canonWriters keeps writers between documents: their members and scratch
// grow once, not for every document (every audit event carries two).
var canonWriters = sync.Pool{New: func() any { return new(canonWriter) }}

// release returns w to canonWriters, holding no pointer into its document
// (the members' keys point into it). The buffers of a rare large document
// are not kept.
func (w *canonWriter) release() {
	w.b = nil
	if cap(w.members) > 1024 {
		w.members = nil
	} else {
		clear(w.members[:cap(w.members)])
		w.members = w.members[:0]
	}
	if cap(w.scratch) > 64<<10 {
		w.scratch = nil
	}
	canonWriters.Put(w)
}

// member is one written member of an object: its key, and where
// `"key":value` lies in the output (the comma before it is not part of it).
type member struct {
	key      []byte
	from, to int
}

// ws skips white space.
func (s *canonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (w *canonWriter) value(dst []byte, depth int) ([]byte, bool) {
	if w.i >= len(w.b) {
		return dst, false
	}
	start := w.i
	switch c := w.b[w.i]; {
	case c == '{':
		if depth >= maxCanonDepth {
			return dst, false
		}
		return w.object(dst, depth+1)
	case c == '[':
		if depth >= maxCanonDepth {
			return dst, false
		}
		return w.array(dst, depth+1)
	case c == '"':
		if _, ok := w.str(); !ok {
			return dst, false
		}
	case c == 't':
		if !w.lit("true") {
			return dst, false
		}
	case c == 'f':
		if !w.lit("false") {
			return dst, false
		}
	case c == 'n':
		if !w.lit("null") {
			return dst, false
		}
	case c == '-' || '0' <= c && c <= '9':
		if !w.number() {
			return dst, false
		}
	default:
		return dst, false
	}
	return append(dst, w.b[start:w.i]...), true
}

func (w *canonWriter) object(dst []byte, depth int) ([]byte, bool) {
	w.i++ // {
	dst = append(dst, '{')
	w.ws()
	if w.i < len(w.b) && w.b[w.i] == '}' {
		w.i++
		return append(dst, '}'), true
	}
	body, base := len(dst), len(w.members)
	defer func() { w.members = w.members[:base] }()
	sorted := true
	for {
		if w.i >= len(w.b) || w.b[w.i] != '"' {
			return dst, false
		}
		key, ok := w.str()
		if !ok || bytes.IndexByte(key, '\\') >= 0 {
			return dst, false
		}
		if n := len(w.members); n > base && !keyLess(w.members[n-1].key, key) {
			sorted = false
		}
		if len(w.members) > base {
			dst = append(dst, ',')
		}
		from := len(dst)
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, '"', ':')
		w.ws()
		if w.i >= len(w.b) || w.b[w.i] != ':' {
			return dst, false
		}
		w.i++
		w.ws()
		if dst, ok = w.value(dst, depth); !ok {
			return dst, false
		}
		w.members = append(w.members, member{key: key, from: from, to: len(dst)})
		w.ws()
		if w.i >= len(w.b) {
			return dst, false
		}
		if w.b[w.i] == '}' {
			w.i++
			break
		}
		if w.b[w.i] != ',' {
			return dst, false
		}
		w.i++
		w.ws()
	}
	if sorted { // in key order already (strictly: no duplicates)
		return append(dst, '}'), true
	}
	ms := w.members[base:]
	slices.SortFunc(ms, func(a, b member) int {
		if len(a.key) != len(b.key) {
			return len(a.key) - len(b.key)
		}
		return bytes.Compare(a.key, b.key)
	})
	for i := 1; i < len(ms); i++ {
		if bytes.Equal(ms[i-1].key, ms[i].key) {
			return dst, false // the last of duplicate keys wins: leave it to the decoder
		}
	}
	// Copy the members aside and write them back in order.
	w.scratch = append(w.scratch[:0], dst[body:]...)
	dst = dst[:body]
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, w.scratch[m.from-body:m.to-body]...)
	}
	return append(dst, '}'), true
}

func (w *canonWriter) array(dst []byte, depth int) ([]byte, bool) {
	w.i++ // [
	dst = append(dst, '[')
	w.ws()
	if w.i < len(w.b) && w.b[w.i] == ']' {
		w.i++
		return append(dst, ']'), true
	}
	for {
		var ok bool
		if dst, ok = w.value(dst, depth); !ok {
			return dst, false
		}
		w.ws()
		if w.i >= len(w.b) {
			return dst, false
		}
		switch w.b[w.i] {
		case ',':
			w.i++
			w.ws()
			dst = append(dst, ',')
		case ']':
			w.i++
			return append(dst, ']'), true
		default:
			return dst, false
		}
	}
}

// keyLess reports whether key a comes before key b in jsonb's order.
func keyLess(a, b []byte) bool {
	return len(a) < len(b) || len(a) == len(b) && bytes.Compare(a, b) < 0
}
