package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// table prints rows under a header, in aligned columns, every cell made
// safe for a terminal.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, safeJoin(header))
	for _, r := range rows {
		fmt.Fprintln(tw, safeJoin(r))
	}
	return tw.Flush()
}

// safeJoin joins cells with tabs, each made safe.
func safeJoin(cells []string) string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = safe(c)
	}
	return strings.Join(out, "\t")
}

// safe returns s with everything a terminal would act on, or that could
// make a line look other than it is, written as an escape: the C0 controls
// (escape, bell, carriage return, tab...), DEL and the C1 controls as
// \xNN, the bidirectional controls and the line and paragraph separators
// as \uNNNN, bytes that are not UTF-8 as \xNN, and the backslash itself as
// \\, so that no value can pass for an escape. Audit events hold what
// clients sent: a tool named "\x1b]0;pwned\x07\x1b[2J" is printed as those
// characters, never obeyed.
func safe(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r >= 0x7f && r <= 0x9f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports the characters beyond the controls that reorder or
// break what a terminal shows: the bidirectional marks, embeddings,
// overrides and isolates, and the line and paragraph separators.
func unsafeRune(r rune) bool {
	return r == 0x200e || r == 0x200f || 0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069 ||
		r == 0x2028 || r == 0x2029
}

// printJSON prints v as indented JSON, safe for a terminal.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(safeJSON(buf.Bytes()))
	return err
}

// safeJSON escapes, inside JSON's strings, the characters encoding/json
// leaves as they are and a terminal would act on: DEL, the C1 controls and
// the bidirectional controls (it escapes the C0 controls and the line
// separators itself). The result is the same JSON value.
func safeJSON(b []byte) []byte {
	clean := true
	for _, c := range b {
		if c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || r >= 0x80 && r <= 0x9f || unsafeRune(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// when formats a time for a table: "-" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortStrings(s []string) { slices.Sort(s) }

// lines prints label/value pairs, the values aligned and safe.
func lines(w io.Writer, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, safeJoin(r))
	}
	return tw.Flush()
}

// list formats a list for a table: "-" for none.
func list(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

// never formats an expiry: "never" for none.
func never(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return when(t)
}
