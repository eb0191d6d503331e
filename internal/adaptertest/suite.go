// Package adaptertest is the one suite every SDK adapter of mcpstore runs
// (gateway/mcpsdk for go-sdk, gateway/mcpgo for mark3labs/mcp-go): a table
// of MCP requests × keys × expected outcomes (allowed, refused with which
// error, filtered to what, which audit row), and what a hostile client
// tries over HTTP, each run against the adapter's own server over
// streamable HTTP with real clients, on both engines.
//
// An adapter's tests describe it as an SDK: how to serve the fixture (the
// same tools, resources, template, prompts and completions whatever the
// SDK), which clients to run the rows with, and what the SDK has or lacks
// (Capabilities), so that a row an SDK cannot serve says so instead of
// being skipped. The package imports go-sdk (for its client), never
// mcp-go.
package adaptertest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

// What every fixture serves, whatever the SDK:
//   - tools "echo" and "secret_tool", each returning its "text" argument;
//   - resources DocURI and SecretURI, each read as "contents of " + its
//     URI, and the template DocTemplate, read the same way;
//   - prompts "greet" and "secret_prompt", each a user message;
//   - completions of any prompt or template argument: ["a"];
//   - resource subscriptions and logging/setLevel;
//   - with Capabilities.CustomMethods, the custom method SearchMethod,
//     whose result's "hits" hold its "query";
//   - with Capabilities.Tasks, tasks/list.
//
// Its server id is ServerID.
const (
	ServerID     = "srv"
	DocURI       = "test://docs/a"
	SecretURI    = "test://secret/b"
	DocTemplate  = "test://docs/{name}"
	SearchMethod = "acme/search"
)

// SDK is an adapter under test.
type SDK struct {
	Name string
	// Serve starts the fixture behind the adapter, over streamable HTTP,
	// with env's Keys and Auditor and the options given; it cleans up when
	// the test ends.
	Serve func(t *testing.T, env Env, opts Options) Served
	// Clients are the clients the rows run with (GoSDKClient at least).
	Clients []ClientKind
	Has     Capabilities
}

// Capabilities are what an SDK serves beyond what every fixture does. A
// row that needs one the SDK lacks expects what the SDK answers then.
type Capabilities struct {
	// CustomMethods: a server may add methods of its own (go-sdk's
	// AddReceivingCustomMethod; mcp-go has none).
	CustomMethods bool
	// Tasks: tasks/list and the other tasks/* methods (mcp-go; go-sdk has
	// none).
	Tasks bool
	// StatelessProtocol: the 2026-07-28 protocol (server/discover,
	// subscriptions/listen) between go-sdk's client and the server.
	StatelessProtocol bool
	// UnknownMethodsReachPolicy: a method the server does not serve is
	// still decided by the policy (refused, or audited as failed), rather
	// than answered "method not found" by the SDK before mcpstore sees it.
	UnknownMethodsReachPolicy bool
}

// Options are what a test asks of the adapter and the fixture.
type Options struct {
	AuditLists       bool
	PageSize         int // the server's list page size; 0: the SDK's default
	TrustedProxies   []netip.Prefix
	AuthFailureLimit gateway.AuthFailureLimit
	// Stateless serves the stateless protocol without sessions (go-sdk's
	// StreamableHTTPOptions.Stateless, mcp-go's WithStateLess).
	Stateless bool
}

// Env is what the suite gives the adapter: the store and the Keys and
// Auditor on it.
type Env struct {
	Store   db.Store
	Keys    *gateway.Keys
	Auditor *gateway.Auditor
}

// Served is a running fixture.
type Served struct {
	URL string
	// AddTool adds a tool like echo under name.
	AddTool func(name string)
	// SessionOpen reports whether the server holds the session id.
	SessionOpen func(id string) bool
	// Streams counts the notification streams the server holds open
	// (each subscriptions/listen of the stateless protocol).
	Streams func() int
}

// fixture is a served SDK with its environment.
type fixture struct {
	Served
	Env
	sdk SDK
}

// serve starts sdk's fixture on s.
func serve(t *testing.T, sdk SDK, s db.Store, opts Options, keyOpts gateway.KeysOptions) *fixture {
	t.Helper()
	keys, err := gateway.NewKeys(t.Context(), s, keyOpts)
	require.NoError(t, err)
	t.Cleanup(func() { keys.Close(context.Background()) })
	auditor := gateway.NewAuditor(s, gateway.AuditorOptions{FlushInterval: 10 * time.Millisecond})
	t.Cleanup(func() { auditor.Close(context.Background()) })
	env := Env{Store: s, Keys: keys, Auditor: auditor}
	return &fixture{Served: sdk.Serve(t, env, opts), Env: env, sdk: sdk}
}

// issue issues a key with perms and returns it raw with its id.
func (f *fixture) issue(t *testing.T, owner string, perms ...string) (string, string) {
	t.Helper()
	raw, info, err := f.Keys.Issue(t.Context(), gateway.IssueOptions{Name: "k", Owner: owner, Permissions: perms})
	require.NoError(t, err)
	return raw, info.ID
}

// events flushes the audit log and returns every event, oldest first.
func (f *fixture) events(t *testing.T) []db.AuditLog {
	t.Helper()
	require.NoError(t, f.Auditor.Close(t.Context()))
	evs, err := f.Store.AuditLogs().ListByDateRange(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "", db.Page{Limit: db.MaxLimit})
	require.NoError(t, err)
	return evs
}

// RegistryNames returns the active tool names of serverID in the registry,
// for the adapters' tool sync tests.
func RegistryNames(t *testing.T, reg *gateway.Registry, serverID string) []string {
	t.Helper()
	tools, err := reg.Tools(t.Context(), serverID)
	require.NoError(t, err)
	out := []string{}
	for _, tool := range tools {
		out = append(out, tool.Name)
	}
	return out
}
