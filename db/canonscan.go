package db

import "bytes"

// maxCanonDepth bounds the nesting isCanonical follows; deeper documents
// take the decoding path, which has limits of its own.
const maxCanonDepth = 256

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
// -?(0|[1-9][0-9]*)(\.[0-9]+)?, without a leading "-0".
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
		s.digits()
	default:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
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
		if n > 0 && (len(prev) > len(k) || len(prev) == len(k) && bytes.Compare(prev, k) >= 0) {
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
