package main

import (
	"encoding/json"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

// What --json prints. These types, not the library's, are the CLI's JSON:
// their field names are lower-case snake_case and stable (a field may be
// added, never renamed or removed; testdata/json holds them and the
// README lists them), whatever the library's Go types become. A time is
// RFC 3339 in UTC, null when there is none; a list is [] when empty.

// keyJSON is a key as keys list, show and revoke print it: never its hash.
type keyJSON struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Prefix       string          `json:"prefix"`
	Owner        string          `json:"owner"`
	State        string          `json:"state"`
	Active       bool            `json:"active"`
	Roles        []string        `json:"roles"`
	Permissions  []string        `json:"permissions"`
	CreatedAt    time.Time       `json:"created_at"`
	ExpiresAt    *time.Time      `json:"expires_at"`
	LastUsedAt   *time.Time      `json:"last_used_at"`
	RevokedAt    *time.Time      `json:"revoked_at"`
	RevokeReason string          `json:"revoke_reason"`
	Metadata     json.RawMessage `json:"metadata"`
}

func keyJSONOf(v keyView) keyJSON {
	return keyJSON{ID: v.ID, Name: v.Name, Prefix: v.Prefix, Owner: v.Owner, State: v.State, Active: v.Active,
		Roles: orEmpty(v.Roles), Permissions: orEmpty(v.Permissions), CreatedAt: v.CreatedAt.UTC(),
		ExpiresAt: orNull(v.ExpiresAt), LastUsedAt: orNull(v.LastUsedAt), RevokedAt: orNull(v.RevokedAt),
		RevokeReason: v.RevokeReason, Metadata: rawOrNull(v.Metadata)}
}

// newKeyJSON is keys create's and keys rotate's answer: the raw key, shown
// this once, and its record; rotate adds the id of the key it replaces.
type newKeyJSON struct {
	Key string `json:"key"`
	keyJSON
	Replaces string `json:"replaces,omitempty"`
}

// verdictJSON is keys verify's answer.
type verdictJSON struct {
	Valid     bool           `json:"valid"`
	Principal *principalJSON `json:"principal,omitempty"`
}

type principalJSON struct {
	KeyID       string     `json:"key_id"`
	KeyName     string     `json:"key_name"`
	Owner       string     `json:"owner"`
	Roles       []string   `json:"roles"`
	Permissions []string   `json:"permissions"`
	ExpiresAt   *time.Time `json:"expires_at"`
	ValidUntil  *time.Time `json:"valid_until"`
}

func principalJSONOf(p gateway.Principal) *principalJSON {
	return &principalJSON{KeyID: p.KeyID, KeyName: p.KeyName, Owner: p.Owner, Roles: orEmpty(p.Roles),
		Permissions: orEmpty(p.Permissions), ExpiresAt: orNull(p.ExpiresAt), ValidUntil: orNull(p.ValidUntil)}
}

// toolJSON is a registered tool as tools list prints it.
type toolJSON struct {
	ID           int64           `json:"id"`
	ServerID     string          `json:"server_id"`
	Name         string          `json:"name"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema"`
	Annotations  json.RawMessage `json:"annotations"`
	Active       bool            `json:"active"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	Metadata     json.RawMessage `json:"metadata"`
}

func toolJSONOf(t db.Tool) toolJSON {
	return toolJSON{ID: t.ID, ServerID: t.ServerID, Name: t.Name, Title: t.Title, Description: t.Description,
		InputSchema: rawOrNull(t.InputSchema), OutputSchema: rawOrNull(t.OutputSchema), Annotations: rawOrNull(t.Annotations),
		Active: t.IsActive, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(), Metadata: rawOrNull(t.Metadata)}
}

// eventJSON is an audit event as audit tail, query and export print it:
// the names of audit export's CSV columns.
type eventJSON struct {
	ID              int64           `json:"id"`
	EventID         string          `json:"event_id"`
	CreatedAt       time.Time       `json:"created_at"`
	RequestID       string          `json:"request_id"`
	TraceID         string          `json:"trace_id"`
	UserID          string          `json:"user_id"`
	APIKeyID        string          `json:"api_key_id"`
	ClientIP        string          `json:"client_ip"`
	Action          string          `json:"action"`
	ResourceType    string          `json:"resource_type"`
	ResourceID      string          `json:"resource_id"`
	Status          string          `json:"status"`
	DurationMS      *float64        `json:"duration_ms"`
	ErrorMessage    string          `json:"error_message"`
	RequestData     json.RawMessage `json:"request_data"`
	ResponseData    json.RawMessage `json:"response_data"`
	ClientRequestID string          `json:"client_request_id"`
}

func eventJSONOf(ev db.AuditLog) eventJSON {
	return eventJSON{ID: ev.ID, EventID: ev.EventID.String(), CreatedAt: ev.CreatedAt.UTC(), RequestID: ev.RequestID,
		TraceID: ev.TraceID, UserID: ev.UserID, APIKeyID: ev.APIKeyID, ClientIP: ev.ClientIP, Action: ev.Action,
		ResourceType: ev.ResourceType, ResourceID: ev.ResourceID, Status: ev.Status, DurationMS: ev.DurationMS,
		ErrorMessage: ev.ErrorMessage, RequestData: rawOrNull(ev.RequestData), ResponseData: rawOrNull(ev.ResponseData),
		ClientRequestID: ev.ClientRequestID}
}

// statsJSON is audit stats' answer.
type statsJSON struct {
	From          time.Time        `json:"from"`
	To            time.Time        `json:"to"`
	Total         int64            `json:"total"`
	ByStatus      map[string]int64 `json:"by_status"`
	ByAction      map[string]int64 `json:"by_action"`
	DurationP50MS *float64         `json:"duration_p50_ms"`
	DurationP95MS *float64         `json:"duration_p95_ms"`
	DurationP99MS *float64         `json:"duration_p99_ms"`
}

func statsJSONOf(from, to time.Time, st db.AuditStatistics) statsJSON {
	return statsJSON{From: from.UTC(), To: to.UTC(), Total: st.Total, ByStatus: orEmptyMap(st.ByStatus),
		ByAction: orEmptyMap(st.ByAction), DurationP50MS: st.DurationP50MS, DurationP95MS: st.DurationP95MS,
		DurationP99MS: st.DurationP99MS}
}

// pruneJSON is audit prune's answer.
type pruneJSON struct {
	Deleted int64     `json:"deleted"`
	Before  time.Time `json:"before"`
}

// migrationJSON is one migration as migrate status prints it.
type migrationJSON struct {
	Version   int64      `json:"version"`
	Source    string     `json:"source"`
	Applied   bool       `json:"applied"`
	AppliedAt *time.Time `json:"applied_at"`
}

func migrationJSONOf(m db.MigrationState) migrationJSON {
	return migrationJSON{Version: m.Version, Source: m.Source, Applied: m.Applied, AppliedAt: orNull(m.AppliedAt)}
}

// mapSlice maps a list for JSON: [] when empty, never null.
func mapSlice[T, J any](in []T, f func(T) J) []J {
	out := make([]J, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func orNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func orEmptyMap(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

func rawOrNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return nil
	}
	return r
}
