package gateway

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// repairer is an Auditor with nothing but what repair uses.
func repairer(maxData int) *Auditor {
	o := AuditorOptions{MaxDataBytes: maxData}.withDefaults()
	return &Auditor{opts: o, redact: NewRedactor(o.RedactKeys, o.MaxDataBytes), maxData: o.MaxDataBytes}
}

func TestRepairText(t *testing.T) {
	long := strings.Repeat("é", 300)
	for _, c := range []struct {
		name, in string
		max      int
		required bool
		want     string
	}{
		{"valid and short: as it is", "search", 200, true, "search"},
		{"invalid UTF-8", "a\xffb\xfe\xfd", 200, false, "a\uFFFDb\uFFFD"},
		{"NUL removed", "x\x00y\x00", 200, false, "xy"},
		{"cut by characters, marked", long, 200, false, strings.Repeat("é", 200-len([]rune("…[cut: 300 chars]"))) + "…[cut: 300 chars]"},
		{"more bytes than the limit, not more characters", strings.Repeat("é", 150), 200, false, strings.Repeat("é", 150)},
		{"a required field emptied", "\x00\x00", 200, true, "\uFFFD"},
		{"an optional field emptied", "\x00", 200, false, ""},
		{"a limit too small for the mark", "abcdef", 3, false, "abc"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, changed := repairText(c.in, c.max, c.required)
			assert.Equal(t, c.want, got)
			assert.Equal(t, c.in != c.want, changed)
			assert.True(t, utf8.ValidString(got))
			assert.LessOrEqual(t, utf8.RuneCountInString(got), c.max)
		})
	}
}

// repairData repairs an event whose request data is doc, as Record does,
// and returns the request data the store writes.
func repairData(t *testing.T, a *Auditor, doc string) (json.RawMessage, bool) {
	t.Helper()
	ev := db.AuditLogCreate{RequestID: "r", Action: "a", ResourceType: "t", Status: "s", RequestData: json.RawMessage(doc)}
	repaired, err := a.repair(&ev)
	require.NoError(t, err)
	stored, err := ev.Checked()
	require.NoError(t, err, "the store takes it")
	return stored.RequestData, repaired
}

// TestRepairDoc: what cannot be stored becomes a marker that says why and
// how large it was; what can is stored repaired, redacted and capped.
func TestRepairDoc(t *testing.T) {
	a := repairer(db.MaxJSONBytes)
	deep := strings.Repeat(`{"a":`, 1001) + "1" + strings.Repeat("}", 1001)
	for _, c := range []struct {
		name, in, want string
		repaired       bool
	}{
		{"canonical, clean", `{"a":1}`, `{"a":1}`, false},
		{"rewritten in canonical form", `{"b":1, "a":2}`, `{"a":2,"b":1}`, false},
		{"redacted", `{"password":"x"}`, `{"password":"[REDACTED]"}`, false},
		{"escaped NUL removed", `{"q":"x\u0000","k\u0000":1}`, `{"k":1,"q":"x"}`, true},
		{"raw NUL removed", "{\"q\":\"x\x00y\"}", `{"q":"xy"}`, true},
		{"invalid UTF-8 replaced", "{\"q\":\"a\xffb\"}", `{"q":"a` + "\uFFFD" + `b"}`, true},
		{"a number numeric cannot hold", `{"n":1e401}`, `{"_size":11,"_invalid":"number out of range"}`, true},
		{"not JSON", `{"a":`, `{"_size":5,"_invalid":"not valid JSON"}`, true},
		{"not an object", `[1,2]`, `{"_size":5,"_invalid":"must be a JSON object"}`, true},
		{"too deep", deep, `{"_size":6007,"_invalid":"nested deeper than 128"}`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, repaired := repairData(t, a, c.in)
			assert.Equal(t, c.want, string(got))
			assert.Equal(t, c.repaired, repaired)
		})
	}

	// Larger than the cap: the truncation marker, its preview redacted,
	// whether the document came in small or large.
	small := repairer(1024)
	big := `{"token":"t","text":"` + strings.Repeat("lorem ", 50_000) + `"}`
	got, _ := repairData(t, small, big)
	assert.LessOrEqual(t, len(got), 1024)
	var m map[string]any
	require.NoError(t, json.Unmarshal(got, &m))
	assert.Equal(t, true, m["_truncated"])
	assert.EqualValues(t, len(`{"text":"`+strings.Repeat("lorem ", 50_000)+`","token":"[REDACTED]"}`), m["_size"], "the size of the redacted document as stored")
	assert.NotContains(t, string(got), `"t"`)
	expands := `{"n":[` + strings.Repeat("1e400,", 100) + `0]}`
	got, _ = repairData(t, small, expands)
	assert.LessOrEqual(t, len(got), 1024, "a document that grows past the cap when stored is capped too")
	assert.Contains(t, string(got), `"_truncated":true`)
}

// TestAuditorRefusesOnlyProgramErrors: Record refuses, at once and with
// the field named, an event the program got wrong, and only that.
func TestAuditorRefusesOnlyProgramErrors(t *testing.T) {
	a := repairer(0)
	ok := db.AuditLogCreate{RequestID: "r", Action: "tools/call", ResourceType: "tool", Status: "success"}
	for field, mutate := range map[string]func(*db.AuditLogCreate){
		"request_id":    func(ev *db.AuditLogCreate) { ev.RequestID = "" },
		"action":        func(ev *db.AuditLogCreate) { ev.Action = "" },
		"resource_type": func(ev *db.AuditLogCreate) { ev.ResourceType = "" },
		"status":        func(ev *db.AuditLogCreate) { ev.Status = "" },
		"duration_ms": func(ev *db.AuditLogCreate) {
			d := math.NaN()
			ev.DurationMS = &d
		},
	} {
		ev := ok
		mutate(&ev)
		_, err := a.repair(&ev)
		require.ErrorIs(t, err, db.ErrInvalid, field)
		var dbErr *db.Error
		require.True(t, errors.As(err, &dbErr))
		assert.Equal(t, field, dbErr.Field)
		assert.Equal(t, "Auditor.Record", dbErr.Op)
	}
	ev := ok
	ev.Action = "\x00"
	repaired, err := a.repair(&ev)
	require.NoError(t, err, "a required field a client can reach is repaired, not refused")
	assert.True(t, repaired)
	assert.Equal(t, "\uFFFD", ev.Action)
}

// FuzzAuditRepair: whatever the fields of an event hold, the Auditor
// either refuses it for a required field left empty or a bad duration (the
// program's mistakes), or repairs it into an event that Checked accepts
// (so the store does) and that the spool's format carries unchanged.
func FuzzAuditRepair(f *testing.F) {
	f.Add("req-1", "search", "192.0.2.1", "boom", []byte(`{"arguments":{"q":"x"}}`), []byte(`{"ok":true}`), 64<<10, 1.5)
	f.Add("\xff", strings.Repeat("t", 300), strings.Repeat("1", 250), "x\x00", []byte(`{"n":1e401}`), []byte("{\"a\":\"\xff\\u0000\"}"), 100, -1.0)
	f.Add("", "", "", "", []byte(`[`), []byte(nil), 0, math.Inf(1))
	f.Fuzz(func(t *testing.T, s1, s2, s3, s4 string, req, resp []byte, maxData int, dur float64) {
		a := repairer(maxData % (2 << 20))
		strs := []string{s1, s2, s3, s4}
		var ev db.AuditLogCreate
		for i := range db.NumAuditText {
			_, p := ev.TextField(i)
			*p = strs[i%len(strs)]
		}
		if len(req) > 0 || req != nil {
			ev.RequestData = req
		}
		if len(resp) > 0 {
			ev.ResponseData = resp
		}
		if !math.IsNaN(dur) && dur > -2 {
			ev.DurationMS = &dur
		}
		programBad := ""
		for i := range db.NumAuditText {
			if f, p := ev.TextField(i); f.Required && *p == "" && programBad == "" {
				programBad = f.Name
			}
		}
		if programBad == "" && ev.DurationMS != nil && (math.IsInf(dur, 0) || dur < 0) {
			programBad = "duration_ms"
		}
		_, err := a.repair(&ev)
		if programBad != "" {
			var dbErr *db.Error
			if !errors.As(err, &dbErr) || !errors.Is(err, db.ErrInvalid) || dbErr.Field != programBad {
				t.Fatalf("want a refusal of %s, got %v", programBad, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("a repaired event was refused: %v", err)
		}
		checked, err := ev.Checked()
		if err != nil {
			t.Fatalf("Checked refuses the repaired event: %v", err)
		}
		for i := range db.NumAuditJSON {
			_, p := ev.JSONField(i)
			if len(*p) > max(a.maxData, 100) {
				t.Fatalf("a document of %d bytes passed the cap of %d", len(*p), a.maxData)
			}
		}
		// Through the spool's format and back: the same event.
		back, err := decodeEvent(appendRecord(nil, &checked)[spoolHeaderLen:])
		if err != nil {
			t.Fatal(err)
		}
		again, err := back.Checked()
		if err != nil {
			t.Fatalf("Checked refuses the event read back: %v", err)
		}
		for i := range db.NumAuditText {
			f, p := checked.TextField(i)
			if _, q := again.TextField(i); *p != *q {
				t.Fatalf("%s: %q read back as %q", f.Name, *p, *q)
			}
		}
		for i := range db.NumAuditJSON {
			name, p := checked.JSONField(i)
			if _, q := again.JSONField(i); string(*p) != string(*q) || (*p == nil) != (*q == nil) {
				t.Fatalf("%s: %q read back as %q", name, *p, *q)
			}
		}
		if again.EventID != checked.EventID || !again.CreatedAt.Equal(checked.CreatedAt) ||
			(again.DurationMS == nil) != (checked.DurationMS == nil) ||
			again.DurationMS != nil && math.Float64bits(*again.DurationMS) != math.Float64bits(*checked.DurationMS) {
			t.Fatalf("read back %+v, wrote %+v", again, checked)
		}
	})
}

// TestSpoolRecordRejectsDamage: a record whose bytes changed, or that was
// cut short, is never read as an event.
func TestSpoolRecordRejectsDamage(t *testing.T) {
	d := 2.5
	ev := db.AuditLogCreate{EventID: uuid.Must(uuid.NewV7()), RequestID: "r", Action: "a", ResourceType: "t", Status: "s",
		RequestData: json.RawMessage(`{"a":1}`), DurationMS: &d, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	rec := appendRecord(nil, &ev)
	payload, n, err := nextRecord(rec)
	require.NoError(t, err)
	require.Equal(t, len(rec), n)
	back, err := decodeEvent(payload)
	require.NoError(t, err)
	assert.Equal(t, ev.RequestData, back.RequestData)
	assert.True(t, ev.CreatedAt.Equal(back.CreatedAt))

	for i := range rec {
		damaged := append([]byte(nil), rec...)
		damaged[i] ^= 0x40
		_, n, err := nextRecord(damaged)
		assert.True(t, err != nil || n == 0 || n != len(rec), "a flipped bit at %d went unnoticed", i)
	}
	for cut := range len(rec) {
		_, n, err := nextRecord(rec[:cut])
		assert.True(t, n == 0 && err == nil || err != nil, "a record cut at %d was read", cut)
	}
}

// FuzzSpoolRecord: any bytes given to the spool's reader are a record and
// an event, or refused, never a panic; what it accepts it accepts again.
func FuzzSpoolRecord(f *testing.F) {
	d := 1.0
	ev := db.AuditLogCreate{EventID: uuid.Must(uuid.NewV7()), RequestID: "r", Action: "a", ResourceType: "t", Status: "s",
		ResponseData: json.RawMessage(`{}`), DurationMS: &d, CreatedAt: time.Unix(1, 0)}
	f.Add(appendRecord(nil, &ev))
	f.Add([]byte(spoolMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		payload, n, err := nextRecord(b)
		if err != nil || n == 0 {
			payload = b // the decoder must survive what no checksum guards too
		}
		ev, err := decodeEvent(payload)
		if err != nil {
			return
		}
		if _, err := decodeEvent(appendRecord(nil, &ev)[spoolHeaderLen:]); err != nil {
			t.Fatalf("an event decoded does not decode again: %v", err)
		}
	})
}

func TestNewEventID(t *testing.T) {
	seen := map[uuid.UUID]bool{}
	prev := newEventID()
	for range 10_000 {
		id := newEventID()
		require.False(t, seen[id], "unique")
		seen[id] = true
		assert.Equal(t, uuid.Version(7), id.Version())
		assert.Equal(t, uuid.RFC4122, id.Variant())
		assert.LessOrEqual(t, prev.Time(), id.Time(), "in time order, to the millisecond")
		prev = id
	}
	sec, _ := prev.Time().UnixTime()
	assert.InDelta(t, time.Now().Unix(), sec, 2)
}
