package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"
)

// stringList is a repeatable string flag: --role a --role b.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	if v == "" {
		return fmt.Errorf("must not be empty")
	}
	*l = append(*l, v)
	return nil
}

// given returns the names of the flags set on the command line.
func given(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

// durationFlag is a flag holding a duration in time.ParseDuration's form,
// or with a leading number of days ("30d", "1d12h").
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Set(v string) error {
	d, err := parseDuration(v)
	if err != nil {
		return err
	}
	f.d, f.set = d, true
	return nil
}

// parseDuration is time.ParseDuration plus a "d" unit for days of 24
// hours, which may only come first ("7d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	orig := s
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (use e.g. 90m, 12h, 7d)", orig)
		}
		days = time.Duration(n) * 24 * time.Hour
		if days/(24*time.Hour) != time.Duration(n) || days < 0 {
			return 0, fmt.Errorf("duration %q is too long", orig)
		}
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || (days > 0 && d < 0) {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 90m, 12h, 7d)", orig)
	}
	if days > 0 && d > (1<<63-1)-days {
		return 0, fmt.Errorf("duration %q is too long", orig)
	}
	return days + d, nil
}

// timeFlag is a flag holding a point in time: RFC 3339, or a date (UTC
// midnight).
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(v string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			f.t = t
			return nil
		}
	}
	return fmt.Errorf("invalid time %q (use RFC 3339, e.g. 2026-03-01T10:00:00Z, or a date)", v)
}

// isTerminal reports whether w is a terminal, where progress lines help a
// person and would only clutter a file or a pipe. /dev/null is a character
// device but no terminal: it answers no.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
