package db

import (
	"errors"
	"unicode/utf8"
)

// ScanObject checks raw as CheckObject does, except for its size, by one
// pass over its bytes that allocates nothing, and returns the most bytes
// its canonical form can take: raw less its white space, each number in
// plain form (1e3 takes 4), duplicate keys counted. So whenever ScanObject
// accepts raw with a bound of at most MaxJSONBytes, and raw itself is no
// larger, CheckObject accepts it (FuzzScanObject holds it so), which lets a
// caller on a hot path (Auditor.Record) know that a document will be stored
// without writing its canonical form; the store writes it when it stores
// it. The errors are CheckObject's.
func ScanObject(raw []byte) (bound int, err error) {
	if !utf8.Valid(raw) {
		return 0, errNotUTF8
	}
	s := jsonScan{canonScan: canonScan{b: raw}}
	s.ws()
	err = errNotObject
	if s.i < len(s.b) && s.b[s.i] == '{' {
		if err = s.value(0); err == nil {
			if s.ws(); s.i == len(s.b) {
				return s.size, nil
			}
			err = errTrailing
		}
	}
	// Refused: in CanonicalJSON's words, which may name another of the
	// document's faults first.
	if _, cerr := CanonicalJSON(raw); cerr != nil {
		return 0, cerr
	}
	return 0, err
}

var (
	errNotUTF8   = errors.New("not valid UTF-8")
	errNotJSON   = errors.New("not valid JSON")
	errTrailing  = errors.New("not valid JSON: data after the value")
	errNUL       = errors.New("contains the NUL character")
	errNumber    = errors.New("number out of range")
	errNotObject = errors.New("must be a JSON object")
)

// jsonScan is ScanObject's state: the document and the position (those
// of a canonScan, whose pieces it shares), and the bound so far.
type jsonScan struct {
	canonScan
	size int
}

func (s *jsonScan) value(depth int) error {
	if s.i >= len(s.b) {
		return errNotJSON
	}
	switch c := s.b[s.i]; {
	case c == '{' || c == '[':
		if depth >= MaxJSONDepth {
			return errTooDeep
		}
		return s.container(depth + 1)
	case c == '"':
		return s.str()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || isDigit(c):
		return s.number()
	}
	return errNotJSON
}

func (s *jsonScan) lit(word string) error {
	if !s.canonScan.lit(word) {
		return errNotJSON
	}
	s.size += len(word)
	return nil
}

// container scans an object or an array: the brackets, commas and colons
// count one byte each.
func (s *jsonScan) container(depth int) error {
	open := s.b[s.i]
	end := byte(']')
	if open == '{' {
		end = '}'
	}
	s.i++
	s.size += 2
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == end {
		s.i++
		return nil
	}
	for {
		if open == '{' {
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return errNotJSON
			}
			if err := s.str(); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return errNotJSON
			}
			s.i++
			s.size++
			s.ws()
		}
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errNotJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.size++
			s.ws()
		case end:
			s.i++
			return nil
		default:
			return errNotJSON
		}
	}
}

// str scans a string. Its canonical form is never longer than it is
// written: an escape becomes the character or a shorter escape.
func (s *jsonScan) str() error {
	start := s.i
	s.i++
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			s.size += s.i - start
			return nil
		case c < 0x20:
			return errNotJSON
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return errNotJSON
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return errNotJSON
				}
				v := 0
				for _, h := range s.b[s.i+2 : s.i+6] {
					d := hexDigit(h)
					if d < 0 {
						return errNotJSON
					}
					v = v<<4 | d
				}
				if v == 0 {
					return errNUL
				}
				s.i += 6
			default:
				return errNotJSON
			}
		default:
			s.i++
		}
	}
	return errNotJSON
}

func hexDigit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// number scans a number and counts the length of its plain form, which
// plainNumber writes, refusing what plainNumber refuses.
func (s *jsonScan) number() error {
	start := s.i
	neg := s.b[s.i] == '-'
	if neg {
		s.i++
	}
	// The integer part: 0, or a digit 1-9 and more digits.
	intStart := s.i
	switch {
	case s.i >= len(s.b):
		return errNotJSON
	case s.b[s.i] == '0':
		s.i++
	case '1' <= s.b[s.i] && s.b[s.i] <= '9':
		s.digits()
	default:
		return errNotJSON
	}
	intEnd := s.i
	fracStart, fracEnd := s.i, s.i
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		fracStart = s.i
		if s.digits() == 0 {
			return errNotJSON
		}
		fracEnd = s.i
	}
	exp, hasExp := 0, false
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		hasExp = true
		s.i++
		expNeg := false
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			expNeg = s.b[s.i] == '-'
			s.i++
		}
		digits := 0
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			if exp <= maxExponent { // beyond it, refused whatever follows
				exp = exp*10 + int(s.b[s.i]-'0')
			}
			s.i++
			digits++
		}
		if digits == 0 {
			return errNotJSON
		}
		if exp > maxExponent {
			return errNumber
		}
		if expNeg {
			exp = -exp
		}
	}
	written := s.i - start
	if !hasExp && !(neg && s.b[intStart] == '0') && written <= maxNumericScale {
		s.size += written // plainNumber leaves it as it is
		return nil
	}
	// As plainNumber writes it: the digits of both parts, the decimal
	// point moved by the exponent.
	nInt, nFrac := intEnd-intStart, fracEnd-fracStart
	nDigits := nInt + nFrac
	point := nInt + exp
	scale := max(nFrac-exp, 0)
	digitAt := func(k int) byte {
		if k < nInt {
			return s.b[intStart+k]
		}
		return s.b[fracStart+k-nInt]
	}
	// The integer part written: the digits before the point (and zeros
	// when the point lies beyond them), without leading zeros, or "0".
	ip := 0
	switch {
	case point <= 0:
		ip = 1
	default:
		lead, upTo := 0, min(point, nDigits)
		for lead < upTo && digitAt(lead) == '0' {
			lead++
		}
		ip = point - lead
		if lead == upTo { // zeros up to the point, those added included
			ip = 1
		}
	}
	if ip > maxNumericDigits || scale > maxNumericScale {
		return errNumber
	}
	n := ip
	if scale > 0 {
		n += 1 + scale
	}
	if neg && !allZeros(s.b[intStart:intEnd]) || neg && !allZeros(s.b[fracStart:fracEnd]) {
		n++ // the minus sign, kept unless the number is zero
	}
	s.size += n
	return nil
}

func allZeros(b []byte) bool {
	for _, c := range b {
		if c != '0' {
			return false
		}
	}
	return true
}
