package main

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

func init() {
	register(command{path: "audit", summary: "read and manage the audit log",
		help: `Read, follow, summarise, prune and export the audit log. What the log
holds came from clients: every table cell and line escapes what a terminal
would act on. Durations: 90m, 12h, 7d; times: RFC 3339
(2026-03-01T10:00:00Z) or a date (2026-03-01).`,
		example: "mcpstore audit query --user alice --since 24h"})
	register(command{path: "audit tail", summary: "the newest events, oldest first; -f keeps following",
		help: `Print the newest -n events, oldest first; with -f, keep printing new
events, every second, until interrupted. With --json, one JSON object per
line.`,
		example: "mcpstore audit tail -n 20 -f", setup: auditTail})
	register(command{path: "audit query", summary: "the events of a request, a user or a time range",
		help: `Print the events of one request (every event of it), of one user (newest
first), or of a time range, with an optional action. --request,
--client-request and --user exclude each other; each combines with a time
range (--since, or --from and --to).`,
		example: "mcpstore audit query --since 24h --action tools/call\nmcpstore audit query --client-request 7f3c2a --json",
		setup:   auditQuery})
	register(command{path: "audit stats", summary: "counts by status and action, and latency percentiles",
		example: "mcpstore audit stats --since 7d", setup: auditStats})
	register(command{path: "audit prune", summary: "delete the events older than a duration",
		help: `Delete the events older than --older-than and print how many, in
bounded batches; on a terminal, stderr shows how far it has come.`,
		example: "mcpstore audit prune --older-than 90d", setup: auditPrune})
	register(command{path: "audit export", summary: "every event selected, as JSON lines or CSV",
		help: `Print every event selected (all of them by default), as JSON lines or
CSV, selected as audit query selects them but without a limit. CSV keeps
values as stored: it is for files, not terminals. On a terminal, stderr
shows how many events are out.`,
		example: "mcpstore audit export --since 30d --format csv > audit.csv", setup: auditExport})
}

// Tuning of the audit commands.
const (
	exportPage     = 1000            // events per query of audit export
	pruneBatch     = 5000            // events per DELETE of audit prune
	pruneSteps     = 20              // audit prune walks to its cutoff in this many slices of time
	followEvery    = time.Second     // how often tail -f polls
	followLookback = 5 * time.Second // how long tail -f looks back for late commits
)

// timeRange is --since, or --from and --to.
type timeRange struct {
	since    durationFlag
	from, to timeFlag
}

func (r *timeRange) add(fs *flag.FlagSet) {
	fs.Var(&r.since, "since", "events of the last `duration`, such as 24h or 7d")
	fs.Var(&r.from, "from", "events at or after this `time`")
	fs.Var(&r.to, "to", "events before this `time` (default: now)")
}

// set reports whether any of the range's flags was given.
func (r *timeRange) set() bool { return r.since.set || !r.from.t.IsZero() || !r.to.t.IsZero() }

// window returns [from, to): the flags' range, or def before now when
// none was given (def 0: from the start of time).
func (r *timeRange) window(name string, now time.Time, def time.Duration) (time.Time, time.Time, error) {
	switch {
	case r.since.set && (!r.from.t.IsZero() || !r.to.t.IsZero()):
		return time.Time{}, time.Time{}, usagef("%s: give --since or --from/--to, not both", name)
	case r.since.set && r.since.d <= 0:
		return time.Time{}, time.Time{}, usagef("%s: --since must be positive", name)
	case r.since.set:
		return now.Add(-r.since.d), now, nil
	case !r.to.t.IsZero() && r.from.t.IsZero():
		return time.Time{}, time.Time{}, usagef("%s: --to needs --from", name)
	case !r.from.t.IsZero():
		to := r.to.t
		if to.IsZero() {
			to = now
		}
		if to.Before(r.from.t) {
			return time.Time{}, time.Time{}, usagef("%s: --to is before --from", name)
		}
		return r.from.t, to, nil
	case def > 0:
		return now.Add(-def), now, nil
	}
	return time.Unix(0, 0).UTC(), now, nil
}

func auditTail(fs *flag.FlagSet) action {
	n := fs.Int("n", 10, "how many of the newest events to print")
	follow := fs.Bool("f", false, "keep printing new events, every second, until interrupted")
	return func(e *env, _ []string) error { return tail(e, *n, *follow) }
}

func tail(e *env, n int, follow bool) error {
	if n < 0 || n > db.MaxLimit {
		return usagef("audit tail: -n must be 0 to %d", db.MaxLimit)
	}
	s, err := e.open()
	if err != nil {
		return err
	}
	// With -n 0 the newest event is still read: -f starts after it.
	newest, err := s.AuditLogs().ListNewest(e.ctx, db.Page{Limit: max(n, 1)})
	if err != nil {
		return err
	}
	var last int64
	if len(newest) > 0 {
		last = newest[0].ID
	}
	newest = newest[:min(n, len(newest))]
	slices.Reverse(newest)
	w := bufio.NewWriter(e.stdout)
	for _, ev := range newest {
		if err := e.printEvent(w, ev); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil || !follow {
		return err
	}
	return e.follow(s, w, last)
}

// follow prints the events stored after the event last, polling every
// followEvery until the context ends. On PostgreSQL an event can commit
// after one with a higher id, so each poll asks again for what is above
// the events printed in the last followLookback, skipping those printed.
func (e *env) follow(s db.Store, w *bufio.Writer, last int64) error {
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	cursor := last
	printed := map[int64]time.Time{} // ids above cursor, and when they were printed
	for {
		select {
		case <-e.ctx.Done():
			return nil // interrupted: the normal end of -f
		case <-tick.C:
		}
		now := time.Now()
		for off := 0; ; off += db.MaxLimit {
			page, err := s.AuditLogs().ListAfterID(e.ctx, cursor, db.Page{Limit: db.MaxLimit, Offset: off})
			if err != nil {
				if e.ctx.Err() != nil {
					return nil
				}
				return err
			}
			for _, ev := range page {
				if _, ok := printed[ev.ID]; ok {
					continue
				}
				printed[ev.ID] = now
				if err := e.printEvent(w, ev); err != nil {
					return err
				}
			}
			if len(page) < db.MaxLimit {
				break
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		// Events printed long enough ago are settled: move past them.
		for id, at := range printed {
			if now.Sub(at) >= followLookback && id > cursor {
				cursor = id
			}
		}
		for id := range printed {
			if id <= cursor {
				delete(printed, id)
			}
		}
	}
}

// printEvent prints one event of audit tail: a line, or a JSON object on
// one line.
func (e *env) printEvent(w io.Writer, ev db.AuditLog) error {
	if e.json {
		return writeJSONLine(w, eventJSONOf(ev))
	}
	_, err := fmt.Fprintf(w, "%s  #%d  %-8s %-10s %-24s user=%s key=%s request=%s%s %s%s\n",
		ev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"), ev.ID, safe(ev.Status), safe(ev.Action), safe(orDash(ev.ResourceID)),
		safe(orDash(ev.UserID)), safe(orDash(ev.APIKeyID)), safe(ev.RequestID), clientSuffix(ev.ClientRequestID),
		millis(ev.DurationMS), safe(errSuffix(ev.ErrorMessage)))
	return err
}

// clientSuffix shows the request id a client sent, when it sent one.
func clientSuffix(id string) string {
	if id == "" {
		return ""
	}
	return " client-request=" + safe(id)
}

func errSuffix(msg string) string {
	if msg == "" {
		return ""
	}
	return "  error: " + msg
}

// millis formats a duration in milliseconds: "-" when not measured.
func millis(d *float64) string {
	if d == nil {
		return "-"
	}
	// Microseconds are precision enough, and spare a reader 0.11599999999999999.
	return strconv.FormatFloat(math.Round(*d*1000)/1000, 'f', -1, 64) + "ms"
}

// auditSelection is what audit query and audit export select, read from
// their flags into one db.AuditQuery, which both read with the repository's
// All: one request's events, one user's (newest first), a time window's, or
// (export only) every event, with an optional action.
type auditSelection struct {
	request, clientRequest, user, action *string
	r                                    timeRange
}

func addSelection(fs *flag.FlagSet) *auditSelection {
	a := &auditSelection{
		request:       fs.String("request", "", "the events of this request `id` (the server's)"),
		clientRequest: fs.String("client-request", "", "the events a client sent under this request `id` of its own (X-Request-Id)"),
		user:          fs.String("user", "", "the events of this `user`, newest first"),
		action:        fs.String("action", "", "only the events of this `action`, such as tools/call"),
	}
	a.r.add(fs)
	return a
}

// query returns the selection of the flags given; with required, one of
// --request, --user or a time range must be. Without a time range, the
// window ends when the command started: an export is of the events stored
// before it began.
func (a *auditSelection) query(name string, fs *flag.FlagSet, required bool) (db.AuditQuery, error) {
	given := given(fs)
	ids := 0
	for _, f := range []string{"request", "client-request", "user"} {
		if given[f] {
			ids++
		}
	}
	switch {
	case ids > 1:
		return db.AuditQuery{}, usagef("%s: give one of --request, --client-request and --user", name)
	case required && ids == 0 && !a.r.set():
		return db.AuditQuery{}, usagef("%s: give one of --request, --client-request, --user, or a time range (--since or --from/--to)", name)
	}
	from, to, err := a.r.window(name, time.Now(), 0)
	if err != nil {
		return db.AuditQuery{}, err
	}
	q := db.AuditQuery{RequestID: *a.request, ClientRequestID: *a.clientRequest, UserID: *a.user, Action: *a.action,
		Newest: given["user"]}
	if a.r.set() || !required {
		q.From, q.To = from, to
	}
	return q, nil
}

func auditQuery(fs *flag.FlagSet) action {
	sel := addSelection(fs)
	limit := fs.Int("limit", db.DefaultLimit, "at most this many events")
	offset := fs.Int("offset", 0, "skip this many events first")
	return func(e *env, _ []string) error { return query(e, fs, sel, *limit, *offset) }
}

func query(e *env, fs *flag.FlagSet, sel *auditSelection, limit, offset int) error {
	given := given(fs)
	switch {
	case limit < 1 || limit > db.MaxLimit:
		return usagef("audit query: --limit must be 1 to %d", db.MaxLimit)
	case offset < 0:
		return usagef("audit query: --offset must not be negative")
	case (given["request"] || given["client-request"]) && (given["limit"] || given["offset"]):
		return usagef("audit query: --request and --client-request return every event of the request: no --limit or --offset")
	}
	q, err := sel.query("audit query", fs, true)
	if err != nil {
		return err
	}
	max := -1 // every event of a request
	if !given["request"] && !given["client-request"] {
		q.Limit, q.Offset, max = limit, offset, limit
	}
	s, err := e.open()
	if err != nil {
		return err
	}
	events := []db.AuditLog{}
	for ev, err := range s.AuditLogs().All(e.ctx, q) {
		if err != nil {
			return err
		}
		if len(events) == max {
			break
		}
		events = append(events, ev)
	}
	if e.json {
		return printJSON(e.stdout, mapSlice(events, eventJSONOf))
	}
	return eventTable(e.stdout, events)
}

func eventTable(w io.Writer, events []db.AuditLog) error {
	rows := make([][]string, len(events))
	for i, ev := range events {
		rows[i] = []string{strconv.FormatInt(ev.ID, 10), ev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
			ev.RequestID, orDash(ev.ClientRequestID), orDash(ev.UserID), orDash(ev.APIKeyID), ev.Action, orDash(ev.ResourceID), ev.Status,
			millis(ev.DurationMS), orDash(ev.ErrorMessage)}
	}
	return table(w, []string{"ID", "TIME", "REQUEST", "CLIENT REQUEST", "USER", "KEY", "ACTION", "RESOURCE", "STATUS", "DURATION", "ERROR"}, rows)
}

func auditStats(fs *flag.FlagSet) action {
	var r timeRange
	r.add(fs)
	return func(e *env, _ []string) error {
		from, to, err := r.window("audit stats", time.Now(), 24*time.Hour)
		if err != nil {
			return err
		}
		s, err := e.open()
		if err != nil {
			return err
		}
		st, err := s.AuditLogs().Statistics(e.ctx, from, to)
		if err != nil {
			return err
		}
		if e.json {
			return printJSON(e.stdout, statsJSONOf(from, to, st))
		}
		return printStats(e.stdout, from, to, st)
	}
}

func printStats(w io.Writer, from, to time.Time, st db.AuditStatistics) error {
	fmt.Fprintf(w, "Events from %s to %s: %d\n", when(from), when(to), st.Total)
	for _, part := range []struct {
		name string
		m    map[string]int64
	}{{"By status", st.ByStatus}, {"By action", st.ByAction}} {
		if len(part.m) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", part.name)
		rows := make([][]string, 0, len(part.m))
		for _, k := range sortedKeys(part.m) {
			rows = append(rows, []string{"  " + k, strconv.FormatInt(part.m[k], 10)})
		}
		if err := lines(w, rows); err != nil {
			return err
		}
	}
	if st.DurationP50MS == nil {
		_, err := fmt.Fprintln(w, "\nLatency: no event has a duration")
		return err
	}
	_, err := fmt.Fprintf(w, "\nLatency: p50 %s  p95 %s  p99 %s\n",
		millis(st.DurationP50MS), millis(st.DurationP95MS), millis(st.DurationP99MS))
	return err
}

// sortedKeys returns m's keys, the largest counts first.
func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}

func auditPrune(fs *flag.FlagSet) action {
	var older durationFlag
	fs.Var(&older, "older-than", "delete the events older than this `duration`, such as 90d (required)")
	return func(e *env, _ []string) error { return pruneOlder(e, older) }
}

func pruneOlder(e *env, older durationFlag) error {
	switch {
	case !older.set:
		return usagef("audit prune: --older-than is required")
	case older.d <= 0:
		return usagef("audit prune: --older-than must be positive")
	}
	before := time.Now().Add(-older.d)
	s, err := e.open()
	if err != nil {
		return err
	}
	n, err := prune(e, s, before)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, pruneJSON{Deleted: n, Before: before.UTC()})
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted %d audit events created before %s.\n", n, when(before))
	return err
}

// prune deletes the events before before, walking there from the oldest
// event in pruneSteps slices of time so that a terminal can show how far
// it has come; each slice is pruned in bounded batches.
func prune(e *env, s db.Store, before time.Time) (int64, error) {
	oldest, err := s.AuditLogs().List(e.ctx, db.AuditQuery{Limit: 1})
	if err != nil || len(oldest) == 0 || !oldest[0].CreatedAt.Before(before) {
		return 0, err
	}
	start := oldest[0].CreatedAt
	progress := isTerminal(e.stderr)
	var total int64
	for i := 1; i <= pruneSteps; i++ {
		cut := before
		if i < pruneSteps {
			cut = start.Add(before.Sub(start) / pruneSteps * time.Duration(i))
		}
		n, err := s.AuditLogs().Prune(e.ctx, cut, pruneBatch)
		total += n
		if err != nil {
			return total, err
		}
		if progress {
			fmt.Fprintf(e.stderr, "\rpruning: %3d%%, %d deleted", i*100/pruneSteps, total)
		}
	}
	if progress {
		fmt.Fprintln(e.stderr)
	}
	return total, nil
}

// exportColumns are audit export's CSV columns; a column added later goes
// at the end, so that readers by position keep working.
var exportColumns = []string{"id", "event_id", "created_at", "request_id", "trace_id", "user_id", "api_key_id", "client_ip",
	"action", "resource_type", "resource_id", "status", "duration_ms", "error_message", "request_data", "response_data", "client_request_id"}

func auditExport(fs *flag.FlagSet) action {
	format := fs.String("format", "jsonl", "jsonl or csv")
	sel := addSelection(fs)
	return func(e *env, _ []string) error { return export(e, fs, sel, *format) }
}

func export(e *env, fs *flag.FlagSet, sel *auditSelection, format string) error {
	if format != "jsonl" && format != "csv" {
		return usagef("audit export: --format must be jsonl or csv")
	}
	q, err := sel.query("audit export", fs, false)
	if err != nil {
		return err
	}
	q.Limit = exportPage
	s, err := e.open()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(e.stdout)
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(w)
		if err := cw.Write(exportColumns); err != nil {
			return err
		}
	}
	progress := isTerminal(e.stderr)
	total := 0
	// All pages by cursor: a page costs no more the deeper the export is,
	// and an event committed during the export can neither repeat an event
	// nor push one out of a page.
	for ev, err := range s.AuditLogs().All(e.ctx, q) {
		if err != nil {
			return err
		}
		if cw != nil {
			err = cw.Write(csvRow(ev))
		} else {
			err = writeJSONLine(w, eventJSONOf(ev))
		}
		if err != nil {
			return err
		}
		if total++; total%exportPage == 0 && progress {
			fmt.Fprintf(e.stderr, "\rexported %d events", total)
		}
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if progress {
		fmt.Fprintf(e.stderr, "\rexported %d events\n", total)
	}
	return nil
}

// writeJSONLine writes v as JSON on one line, safe for a terminal.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", safeJSON(b))
	return err
}

func csvRow(ev db.AuditLog) []string {
	dur := ""
	if ev.DurationMS != nil {
		dur = strconv.FormatFloat(*ev.DurationMS, 'f', -1, 64)
	}
	return []string{strconv.FormatInt(ev.ID, 10), ev.EventID.String(), ev.CreatedAt.UTC().Format(time.RFC3339Nano),
		ev.RequestID, ev.TraceID, ev.UserID, ev.APIKeyID, ev.ClientIP, ev.Action, ev.ResourceType, ev.ResourceID,
		ev.Status, dur, ev.ErrorMessage, string(ev.RequestData), string(ev.ResponseData), ev.ClientRequestID}
}
