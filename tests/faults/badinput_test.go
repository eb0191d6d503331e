package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
)

// outcome is what an entry point that does not return an error did: an
// HTTP status or a CLI exit code.
// It is comparable, so errors.Is matches it by value.
type outcome struct {
	kind string
	n    int
}

func (o outcome) Error() string { return fmt.Sprintf("%s %d", o.kind, o.n) }

func httpStatus(n int) error { return outcome{"http status", n} }
func exitCode(n int) error   { return outcome{"exit code", n} }

// fixture is one engine's database with a key, a tool and an audit event
// in it, and every entry point over it.
type fixture struct {
	url      string
	store    db.Store
	keys     *gateway.Keys
	registry *gateway.Registry
	http     *httptest.Server
	key      db.APIKey // the stored key
	raw      string    // its raw form
	deleted  string    // a well-formed key no longer stored
}

func newFixture(t *testing.T, engine string) *fixture {
	ctx := t.Context()
	f := &fixture{url: newURL(t, engine)}
	f.store = openURL(t, f.url)
	var err error
	f.keys, err = gateway.NewKeys(ctx, f.store, gateway.KeysOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { f.keys.Close(context.Background()) })
	var info gateway.KeyInfo
	f.raw, info, err = f.keys.Issue(ctx, gateway.IssueOptions{Name: "fixture", Permissions: []string{"tools:call:*"}})
	require.NoError(t, err)
	f.key, err = f.store.APIKeys().Get(ctx, info.ID)
	require.NoError(t, err)

	var gone gateway.KeyInfo
	f.deleted, gone, err = f.keys.Issue(ctx, gateway.IssueOptions{Name: "deleted"})
	require.NoError(t, err)
	require.NoError(t, f.store.APIKeys().Delete(ctx, gone.ID))

	f.registry = gateway.NewRegistry(f.store, gateway.RegistryOptions{})
	_, err = f.registry.Sync(ctx, "files", []gateway.Tool{{Name: "read_file", InputSchema: json.RawMessage(`{"type":"object"}`)}})
	require.NoError(t, err)
	_, err = f.store.AuditLogs().Insert(ctx, db.AuditLogCreate{RequestID: "r", ResourceType: "tool", Action: "tools/call", Status: "success"})
	require.NoError(t, err)

	server := mcp.NewServer(&mcp.Implementation{Name: "files", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "read_file"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{}, nil, nil
		})
	g := mcpsdk.New(mcpsdk.Options{ServerID: "files", Keys: f.keys})
	server.AddReceivingMiddleware(g.Middleware())
	f.http = httptest.NewServer(g.Handler(server, nil))
	t.Cleanup(f.http.Close)
	return f
}

// post sends body to the MCP endpoint with the Authorization header auth
// ("" for none) and returns the status.
func (f *fixture) post(t *testing.T, auth, body string) error {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.http.URL, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if strings.Contains(b.String(), f.raw) {
		t.Errorf("the response echoes the key")
	}
	return httpStatus(resp.StatusCode)
}

// cli runs the mcpstore command on the fixture's database and returns its
// exit code. Its stderr must be one line at most (then the usage, for a bad
// command line) and never hold the key.
func (f *fixture) cli(t *testing.T, stdin string, args ...string) error {
	cmd := exec.CommandContext(t.Context(), binary(t), append([]string{"--db", f.url}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if x := (*exec.ExitError)(nil); errors.As(err, &x) {
		code = x.ExitCode()
	} else if err != nil {
		return err
	}
	// A failure is one line; a bad command line (exit 2) is one line and
	// then the command's usage.
	first, rest, _ := strings.Cut(stderr.String(), "\n")
	if code != 0 && (first == "" || rest != "" && (code != 2 || !strings.HasPrefix(rest, "\nusage: mcpstore "))) {
		t.Errorf("stderr is not one line (and the usage, for a bad command line): %q", stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), f.raw) {
		t.Errorf("the CLI printed the key")
	}
	return exitCode(code)
}

// record gives ev, which the embedding program got wrong, to a new
// Auditor: Record must refuse it at once, and nothing is stored.
func (f *fixture) record(t *testing.T, ev db.AuditLogCreate) error {
	a := gateway.NewAuditor(f.store, gateway.AuditorOptions{})
	err := a.Record(t.Context(), ev)
	require.NoError(t, a.Close(t.Context()))
	st := a.Stats()
	if st.Stored != 0 || st.Invalid != 1 {
		t.Errorf("a refused event: %+v", st)
	}
	return err
}

var errRollback = errors.New("rolled back on purpose")

type badCase struct {
	name string
	run  func(t *testing.T, f *fixture) error
	want error // errors.Is(err, want) must hold
}

func obj(s string) json.RawMessage { return json.RawMessage(s) }

var badCases = []badCase{
	// Store repositories.
	{"Store/APIKeys.Create/empty name", func(t *testing.T, f *fixture) error {
		_, err := f.store.APIKeys().Create(t.Context(), db.APIKeyCreate{Prefix: "mcp_abcdef", KeyHash: "h1"})
		return err
	}, db.ErrInvalid},
	{"Store/APIKeys.Create/NUL in name", func(t *testing.T, f *fixture) error {
		_, err := f.store.APIKeys().Create(t.Context(), db.APIKeyCreate{Name: "a\x00b", Prefix: "mcp_abcdef", KeyHash: "h2"})
		return err
	}, db.ErrInvalid},
	{"Store/APIKeys.Create/metadata an array", func(t *testing.T, f *fixture) error {
		_, err := f.store.APIKeys().Create(t.Context(), db.APIKeyCreate{Name: "n", Prefix: "mcp_abcdef", KeyHash: "h3", Metadata: obj(`[1]`)})
		return err
	}, db.ErrInvalid},
	{"Store/APIKeys.Create/metadata not JSON", func(t *testing.T, f *fixture) error {
		_, err := f.store.APIKeys().Create(t.Context(), db.APIKeyCreate{Name: "n", Prefix: "mcp_abcdef", KeyHash: "h4", Metadata: obj(`{"a":`)})
		return err
	}, db.ErrInvalid},
	{"Store/APIKeys.Create/hash taken", func(t *testing.T, f *fixture) error {
		_, err := f.store.APIKeys().Create(t.Context(), db.APIKeyCreate{Name: "n", Prefix: "mcp_abcdef", KeyHash: f.key.KeyHash})
		return err
	}, db.ErrConflict},
	{"Store/APIKeys.Get/unknown id", func(t *testing.T, f *fixture) error {
		_, err := f.store.APIKeys().Get(t.Context(), "no-such-key")
		return err
	}, db.ErrNotFound},
	{"Store/APIKeys.List/negative limit", func(t *testing.T, f *fixture) error {
		_, err := f.store.APIKeys().List(t.Context(), db.KeyQuery{Limit: -1})
		return err
	}, db.ErrInvalid},
	{"Store/APIKeys.Revoke/reason too long", func(t *testing.T, f *fixture) error {
		_, err := f.store.APIKeys().Revoke(t.Context(), f.key.ID, time.Now(), strings.Repeat("r", db.MaxShortLen+1))
		return err
	}, db.ErrInvalid},
	{"Store/APIKeys.UpdateLastUsedBatch/empty id", func(t *testing.T, f *fixture) error {
		_, err := f.store.APIKeys().UpdateLastUsedBatch(t.Context(), []db.KeyUse{{ID: f.key.ID, At: time.Now()}, {ID: "", At: time.Now()}})
		return err
	}, db.ErrInvalid},
	{"Store/Tools.Create/input schema not JSON", func(t *testing.T, f *fixture) error {
		_, err := f.store.Tools().Create(t.Context(), db.ToolCreate{ServerID: "files", Name: "x", InputSchema: obj(`{`)})
		return err
	}, db.ErrInvalid},
	{"Store/Tools.Create/name too long", func(t *testing.T, f *fixture) error {
		_, err := f.store.Tools().Create(t.Context(), db.ToolCreate{ServerID: "files", Name: strings.Repeat("n", 129), InputSchema: obj(`{}`)})
		return err
	}, db.ErrInvalid},
	{"Store/Tools.Create/name taken", func(t *testing.T, f *fixture) error {
		_, err := f.store.Tools().Create(t.Context(), db.ToolCreate{ServerID: "files", Name: "read_file", InputSchema: obj(`{}`)})
		return err
	}, db.ErrConflict},
	{"Store/Tools.Upsert/invalid UTF-8 description", func(t *testing.T, f *fixture) error {
		_, err := f.store.Tools().Upsert(t.Context(), db.ToolCreate{ServerID: "files", Name: "y", Description: "\xff\xfe", InputSchema: obj(`{}`)})
		return err
	}, db.ErrInvalid},
	{"Store/Tools.Update/unknown id", func(t *testing.T, f *fixture) error {
		_, err := f.store.Tools().Update(t.Context(), 1<<40, db.ToolUpdate{Title: db.Set("t")})
		return err
	}, db.ErrNotFound},
	{"Store/AuditLogs.Insert/request data not JSON", func(t *testing.T, f *fixture) error {
		_, err := f.store.AuditLogs().Insert(t.Context(), db.AuditLogCreate{RequestID: "r", ResourceType: "tool", Action: "a", Status: "s", RequestData: obj(`nope`)})
		return err
	}, db.ErrInvalid},
	{"Store/AuditLogs.InsertBatch/one invalid event spoils the batch", func(t *testing.T, f *fixture) error {
		_, err := f.store.AuditLogs().InsertBatch(t.Context(), []db.AuditLogCreate{
			{RequestID: "r", ResourceType: "tool", Action: "a", Status: "s"}, {RequestID: "r", ResourceType: "tool", Action: "b", Status: "s"}, {RequestID: "r", ResourceType: "tool", Action: "c", Status: "s", ResponseData: obj(`[`)},
		})
		return err
	}, db.ErrInvalid},
	{"Store/AuditLogs.Prune/batch size 0", func(t *testing.T, f *fixture) error {
		_, err := f.store.AuditLogs().Prune(t.Context(), time.Now(), 0)
		return err
	}, db.ErrInvalid},
	{"Store/AuditLogs.ListByDateRange/limit over the maximum", func(t *testing.T, f *fixture) error {
		_, err := f.store.AuditLogs().ListByDateRange(t.Context(), time.Now().Add(-time.Hour), time.Now(), "", db.Page{Limit: db.MaxLimit + 1})
		return err
	}, db.ErrInvalid},
	{"Store/InTx/error after writes leaves nothing", func(t *testing.T, f *fixture) error {
		return f.store.InTx(t.Context(), func(tx db.Repositories) error {
			if _, err := tx.AuditLogs().Insert(t.Context(), db.AuditLogCreate{RequestID: "r", ResourceType: "tool", Action: "a", Status: "s"}); err != nil {
				return err
			}
			if _, err := tx.Tools().Create(t.Context(), db.ToolCreate{ServerID: "files", Name: "z", InputSchema: obj(`{}`)}); err != nil {
				return err
			}
			return errRollback
		})
	}, errRollback},

	// Keys.
	{"Keys.Issue/empty name", func(t *testing.T, f *fixture) error {
		_, _, err := f.keys.Issue(t.Context(), gateway.IssueOptions{})
		return err
	}, db.ErrInvalid},
	{"Keys.Issue/expiry in the past", func(t *testing.T, f *fixture) error {
		_, _, err := f.keys.Issue(t.Context(), gateway.IssueOptions{Name: "n", ExpiresAt: time.Now().Add(-time.Minute)})
		return err
	}, db.ErrInvalid},
	{"Keys.Issue/permission with NUL", func(t *testing.T, f *fixture) error {
		_, _, err := f.keys.Issue(t.Context(), gateway.IssueOptions{Name: "n", Permissions: []string{"tools:\x00"}})
		return err
	}, db.ErrInvalid},
	{"Keys.Rotate/negative grace", func(t *testing.T, f *fixture) error {
		_, _, err := f.keys.Rotate(t.Context(), f.key.ID, -time.Second)
		return err
	}, db.ErrInvalid},
	{"Keys.Rotate/unknown id", func(t *testing.T, f *fixture) error {
		_, _, err := f.keys.Rotate(t.Context(), "no-such-key", 0)
		return err
	}, db.ErrNotFound},
	{"Keys.Revoke/unknown id", func(t *testing.T, f *fixture) error {
		return f.keys.Revoke(t.Context(), "no-such-key", "r")
	}, db.ErrNotFound},
	{"Keys.Verify/garbage", func(t *testing.T, f *fixture) error {
		_, err := f.keys.Verify(t.Context(), "'; DROP TABLE api_keys; --")
		return err
	}, gateway.ErrInvalidKey},
	{"Keys.Verify/one megabyte", func(t *testing.T, f *fixture) error {
		_, err := f.keys.Verify(t.Context(), strings.Repeat("mcp_", 1<<18))
		return err
	}, gateway.ErrInvalidKey},
	{"Keys.Verify/key with one character changed", func(t *testing.T, f *fixture) error {
		b := []byte(f.raw)
		b[10] ^= 1
		_, err := f.keys.Verify(t.Context(), string(b))
		return err
	}, gateway.ErrInvalidKey},

	// Auditor.
	// What a client sent is repaired and stored (TestAuditorStoresTheEvasions);
	// only the program's own mistakes are refused.
	{"Auditor.Record/no action", func(t *testing.T, f *fixture) error {
		return f.record(t, db.AuditLogCreate{RequestID: "r", ResourceType: "tool", Status: "s", RequestData: obj(`{"password":`)})
	}, db.ErrInvalid},
	{"Auditor.Record/no request id", func(t *testing.T, f *fixture) error {
		return f.record(t, db.AuditLogCreate{ResourceType: "tool", Action: "a", Status: strings.Repeat("s", 1000)})
	}, db.ErrInvalid},
	{"Auditor.Record/negative duration", func(t *testing.T, f *fixture) error {
		d := -1.0
		return f.record(t, db.AuditLogCreate{RequestID: "r", ResourceType: "tool", Action: "a", Status: "s", DurationMS: &d})
	}, db.ErrInvalid},
	{"Auditor.Record/after Close", func(t *testing.T, f *fixture) error {
		a := gateway.NewAuditor(f.store, gateway.AuditorOptions{})
		require.NoError(t, a.Close(t.Context()))
		return a.Record(t.Context(), db.AuditLogCreate{RequestID: "r", ResourceType: "tool", Action: "a", Status: "s"})
	}, gateway.ErrAuditorClosed},

	// Registry.
	{"Registry.Sync/empty server id", func(t *testing.T, f *fixture) error {
		_, err := f.registry.Sync(t.Context(), "", []gateway.Tool{{Name: "t", InputSchema: obj(`{"type":"object"}`)}})
		return err
	}, db.ErrInvalid},
	{"Registry.Sync/second tool has a bad name", func(t *testing.T, f *fixture) error {
		_, err := f.registry.Sync(t.Context(), "files", []gateway.Tool{
			{Name: "ok", InputSchema: obj(`{"type":"object"}`)}, {Name: "bad name", InputSchema: obj(`{"type":"object"}`)},
		})
		return err
	}, db.ErrInvalid},
	{"Registry.Sync/name given twice", func(t *testing.T, f *fixture) error {
		_, err := f.registry.Sync(t.Context(), "files", []gateway.Tool{
			{Name: "t", InputSchema: obj(`{"type":"object"}`)}, {Name: "t", InputSchema: obj(`{"type":"object"}`)},
		})
		return err
	}, db.ErrInvalid},
	{"Registry.Sync/input schema not of type object", func(t *testing.T, f *fixture) error {
		_, err := f.registry.Sync(t.Context(), "files", []gateway.Tool{{Name: "t", InputSchema: obj(`{"type":"string"}`)}})
		return err
	}, db.ErrInvalid},
	{"Registry.Sync/more tools than allowed", func(t *testing.T, f *fixture) error {
		r := gateway.NewRegistry(f.store, gateway.RegistryOptions{MaxTools: 1})
		_, err := r.Sync(t.Context(), "other", []gateway.Tool{
			{Name: "a", InputSchema: obj(`{"type":"object"}`)}, {Name: "b", InputSchema: obj(`{"type":"object"}`)},
		})
		return err
	}, db.ErrInvalid},
	{"Registry.GetQualified/no separator", func(t *testing.T, f *fixture) error {
		_, err := f.registry.GetQualified(t.Context(), "read_file")
		return err
	}, db.ErrInvalid},

	// mcpsdk: TokenVerifier and middleware over HTTP.
	{"HTTP/no Authorization", func(t *testing.T, f *fixture) error {
		return f.post(t, "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	}, httpStatus(http.StatusUnauthorized)},
	{"HTTP/Bearer garbage", func(t *testing.T, f *fixture) error {
		return f.post(t, "Bearer ' OR 1=1; -- \xe9\xe9", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	}, httpStatus(http.StatusUnauthorized)},
	{"HTTP/Bearer well-formed unknown key", func(t *testing.T, f *fixture) error {
		return f.post(t, "Bearer "+f.deleted, `{}`)
	}, httpStatus(http.StatusUnauthorized)},
	{"HTTP/Basic instead of Bearer", func(t *testing.T, f *fixture) error {
		return f.post(t, "Basic "+f.raw, `{}`)
	}, httpStatus(http.StatusUnauthorized)},
	{"HTTP/valid key, body not JSON", func(t *testing.T, f *fixture) error {
		return f.post(t, "Bearer "+f.raw, `{"jsonrpc":`)
	}, httpStatus(http.StatusBadRequest)},

	// The CLI.
	{"CLI/unknown command", func(t *testing.T, f *fixture) error {
		return f.cli(t, "", "frobnicate")
	}, exitCode(2)},
	{"CLI/keys create without --name", func(t *testing.T, f *fixture) error {
		return f.cli(t, "", "keys", "create")
	}, exitCode(2)},
	{"CLI/keys create with a negative lifetime", func(t *testing.T, f *fixture) error {
		return f.cli(t, "", "keys", "create", "--name", "n", "--expires-in", "-1h")
	}, exitCode(2)},
	{"CLI/keys show unknown id", func(t *testing.T, f *fixture) error {
		return f.cli(t, "", "keys", "show", "no-such-key")
	}, exitCode(1)},
	{"CLI/keys revoke unknown id", func(t *testing.T, f *fixture) error {
		return f.cli(t, "", "keys", "revoke", "no-such-key")
	}, exitCode(1)},
	{"CLI/keys verify garbage", func(t *testing.T, f *fixture) error {
		return f.cli(t, "not a key\n", "keys", "verify")
	}, exitCode(1)},
	{"CLI/keys verify the key as an argument", func(t *testing.T, f *fixture) error {
		return f.cli(t, "", "keys", "verify", f.raw)
	}, exitCode(2)},
	{"CLI/audit query with a bad duration", func(t *testing.T, f *fixture) error {
		return f.cli(t, "", "audit", "query", "--since", "yesterday")
	}, exitCode(2)},
}

// TestBadInput feeds bad input to every public entry point, on both
// engines: each refuses it with a typed error or exit code, and no table
// changes.
func TestBadInput(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			f := newFixture(t, engine)
			passed := 0
			for _, c := range badCases {
				ok := t.Run(c.name, func(t *testing.T) {
					before := counts(t, f.store)
					err := c.run(t, f)
					require.Error(t, err)
					require.ErrorIs(t, err, c.want)
					var dbErr *db.Error
					if errors.As(err, &dbErr) {
						assert.NotEmpty(t, dbErr.Op, "the error names its operation")
					}
					assert.NotContains(t, err.Error(), f.raw)
					assert.Equal(t, before, counts(t, f.store), "rows changed")
				})
				if ok {
					passed++
				}
			}
			// The fixture still works after all that.
			p, err := f.keys.Verify(t.Context(), f.raw)
			require.NoError(t, err)
			assert.Equal(t, f.key.ID, p.KeyID)
			summary(t, "%d bad inputs refused with a typed error or exit code, rows unchanged (%d cases)", passed, len(badCases))
		})
	}
}
