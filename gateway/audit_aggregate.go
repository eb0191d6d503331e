package gateway

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// An aggregate row stands for the refusals of keys from one client address
// in one interval, recorded while the Auditor was under pressure. It is an
// event like the others (action "auth", the refused events' resource type
// and status, the address in client_ip, a request id of its own, the first
// refusal's time), whose response_data is
//
//	{"_aggregated":{"count":N,"first":T1,"last":T2,"errors":{"<error message>":n,...}}}
//
// with the times in RFC 3339 (nanoseconds) and at most aggregateErrors
// distinct messages (the others counted under "other"). Statistics count
// it as one event.
const (
	// aggregateErrors bounds the distinct error messages one row counts.
	aggregateErrors = 16
	// aggregateAddresses bounds the addresses counted apart in one
	// interval; the refusals from further addresses share one row with
	// an empty client_ip.
	aggregateAddresses = 4096
)

// aggregator counts refusals of keys per client address and interval.
type aggregator struct {
	interval time.Duration

	mu     sync.Mutex
	counts map[aggregateKey]*aggregateCount
}

type aggregateKey struct {
	ip, resourceType, status string
	start                    int64 // the interval's start, Unix nanoseconds
}

type aggregateCount struct {
	n           int64
	first, last time.Time
	errors      map[string]int64
}

func newAggregator(interval time.Duration) *aggregator {
	return &aggregator{interval: interval, counts: map[aggregateKey]*aggregateCount{}}
}

// add counts ev, a repaired event of action ActionAuth.
func (g *aggregator) add(ev *db.AuditLogCreate) {
	k := aggregateKey{ip: ev.ClientIP, resourceType: ev.ResourceType, status: ev.Status,
		start: ev.CreatedAt.Truncate(g.interval).UnixNano()}
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.counts[k]
	if c == nil {
		if len(g.counts) >= aggregateAddresses {
			k.ip = ""
			c = g.counts[k]
		}
		if c == nil {
			c = &aggregateCount{first: ev.CreatedAt, last: ev.CreatedAt, errors: map[string]int64{}}
			g.counts[k] = c
		}
	}
	c.n++
	c.first = minTime(c.first, ev.CreatedAt)
	c.last = maxTime(c.last, ev.CreatedAt)
	msg := ev.ErrorMessage
	if _, ok := c.errors[msg]; !ok && len(c.errors) >= aggregateErrors {
		msg = "other"
	}
	c.errors[msg]++
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// take returns the rows of the intervals ended by now (all of them with
// all) and forgets them, with how many refusals they count.
func (g *aggregator) take(now time.Time, all bool) (rows []db.AuditLogCreate, refusals int64) {
	g.mu.Lock()
	var keys []aggregateKey
	var counts []*aggregateCount
	for k, c := range g.counts {
		if all || time.Unix(0, k.start).Add(g.interval).Compare(now) <= 0 {
			keys, counts = append(keys, k), append(counts, c)
			delete(g.counts, k)
		}
	}
	g.mu.Unlock()
	for i, k := range keys {
		rows = append(rows, aggregateRow(k, counts[i]))
		refusals += counts[i].n
	}
	return rows, refusals
}

// aggregateRow is the event that stands for c.
func aggregateRow(k aggregateKey, c *aggregateCount) db.AuditLogCreate {
	type agg struct {
		Count  int64            `json:"count"`
		First  string           `json:"first"`
		Last   string           `json:"last"`
		Errors map[string]int64 `json:"errors"`
	}
	data, _ := json.Marshal(map[string]agg{"_aggregated": {
		Count: c.n, First: c.first.UTC().Format(time.RFC3339Nano), Last: c.last.UTC().Format(time.RFC3339Nano), Errors: c.errors,
	}})
	from := "this address"
	if k.ip == "" {
		from = "addresses beyond the first " + fmt.Sprint(aggregateAddresses)
	}
	msgs := make([]string, 0, len(c.errors))
	for m := range c.errors {
		msgs = append(msgs, m)
	}
	slices.Sort(msgs)
	return db.AuditLogCreate{
		EventID:      newEventID(),
		RequestID:    newEventID().String(),
		ClientIP:     k.ip,
		Action:       ActionAuth,
		ResourceType: k.resourceType,
		Status:       k.status,
		ErrorMessage: fmt.Sprintf("%d refusals from %s, counted under load (%s)", c.n, from, strings.Join(msgs, "; ")),
		ResponseData: data,
		CreatedAt:    c.first,
	}
}
