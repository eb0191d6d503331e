package mcpsdk_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
	"github.com/mcpstore/mcpstore/internal/mcphttp"
)

// fixture is an MCP server offering something of every kind a key can be
// granted (tools, resources and a template, prompts, completions,
// subscriptions, logging and a custom method) behind a Gateway over
// streamable HTTP.
type fixture struct {
	store   db.Store
	url     string
	keys    *gateway.Keys
	auditor *gateway.Auditor
	gw      *mcpsdk.Gateway
	server  *mcp.Server
}

// What the fixture serves.
const (
	docURI      = "test://docs/a"
	secretURI   = "test://secret/b"
	docTemplate = "test://docs/{name}"
	searchCall  = "acme/search"
)

type searchParams struct {
	mcp.ParamsBase
	Query string `json:"query"`
}

type searchResult struct {
	mcp.ResultBase
	Hits []string `json:"hits"`
}

func newFixture(t *testing.T, s db.Store, opts mcpsdk.Options, serverOpts *mcp.ServerOptions) *fixture {
	t.Helper()
	return newFixtureHTTP(t, s, opts, serverOpts, nil)
}

// newFixtureHTTP is newFixture with options for go-sdk's HTTP handler.
func newFixtureHTTP(t *testing.T, s db.Store, opts mcpsdk.Options, serverOpts *mcp.ServerOptions, httpOpts *mcp.StreamableHTTPOptions) *fixture {
	t.Helper()
	ctx := t.Context()
	keys, err := gateway.NewKeys(ctx, s, gateway.KeysOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { keys.Close(context.Background()) })
	auditor := gateway.NewAuditor(s, gateway.AuditorOptions{FlushInterval: 10 * time.Millisecond})
	t.Cleanup(func() { auditor.Close(context.Background()) })
	opts.Keys, opts.Auditor = keys, auditor
	if opts.ServerID == "" {
		opts.ServerID = "srv"
	}
	g := mcpsdk.New(opts)
	t.Cleanup(func() { g.Close() })

	if serverOpts == nil {
		serverOpts = &mcp.ServerOptions{}
	}
	serverOpts.CompletionHandler = func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
		return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{"a"}}}, nil
	}
	serverOpts.SubscribeHandler = func(context.Context, *mcp.SubscribeRequest) error { return nil }
	serverOpts.UnsubscribeHandler = func(context.Context, *mcp.UnsubscribeRequest) error { return nil }
	server := mcp.NewServer(&mcp.Implementation{Name: "fixture", Version: "1"}, serverOpts)
	addEcho(server, "echo")
	addEcho(server, "secret_tool")
	for _, uri := range []string{docURI, secretURI} {
		server.AddResource(&mcp.Resource{URI: uri, Name: uri}, readText)
	}
	server.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: docTemplate, Name: "docs"}, readText)
	for _, name := range []string{"greet", "secret_prompt"} {
		server.AddPrompt(&mcp.Prompt{Name: name}, func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: req.Params.Name}}}}, nil
		})
	}
	require.NoError(t, mcp.AddReceivingCustomMethod(server, searchCall,
		func(_ context.Context, _ *mcp.ServerSession, p *searchParams) (*searchResult, error) {
			return &searchResult{Hits: []string{p.Query}}, nil
		}))
	server.AddReceivingMiddleware(g.Middleware())
	hs := httptest.NewServer(g.Handler(server, httpOpts))
	t.Cleanup(hs.Close)
	return &fixture{store: s, url: hs.URL, keys: keys, auditor: auditor, gw: g, server: server}
}

func readText(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "contents of " + req.Params.URI}}}, nil
}

// issue issues a key with perms and returns it raw with its id.
func (f *fixture) issue(t *testing.T, owner string, perms ...string) (string, string) {
	t.Helper()
	raw, info, err := f.keys.Issue(t.Context(), gateway.IssueOptions{Name: "k", Owner: owner, Permissions: perms})
	require.NoError(t, err)
	return raw, info.ID
}

// connect opens a session with key over the 2025-11-25 protocol, which has
// sessions (go-sdk's stateful handler speaks it).
func (f *fixture) connect(ctx context.Context, key string, hdr mcphttp.Headers) (*mcp.ClientSession, error) {
	return f.connectVersion(ctx, key, hdr, "2025-11-25", nil)
}

// connectVersion connects with key over a protocol version ("" for
// go-sdk's newest), with the client's options.
func (f *fixture) connectVersion(ctx context.Context, key string, hdr mcphttp.Headers, version string, clientOpts *mcp.ClientOptions) (*mcp.ClientSession, error) {
	if hdr == nil {
		hdr = mcphttp.Headers{}
	}
	hdr["Authorization"] = "Bearer " + key
	client := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, clientOpts)
	if err := mcp.AddSendingCustomMethod[*searchParams, *searchResult](client, searchCall); err != nil {
		return nil, err
	}
	return client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: f.url, HTTPClient: &http.Client{Transport: hdr}, MaxRetries: -1,
	}, &mcp.ClientSessionOptions{ProtocolVersion: version})
}

// events flushes the audit log and returns every event, oldest first.
func (f *fixture) events(t *testing.T) []db.AuditLog {
	t.Helper()
	require.NoError(t, f.auditor.Close(t.Context()))
	evs, err := f.store.AuditLogs().ListByDateRange(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "", db.Page{Limit: db.MaxLimit})
	require.NoError(t, err)
	return evs
}

// loopback trusts the test's own proxies: every request comes from
// 127.0.0.1, so X-Forwarded-For names the client.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func gatewayIssue(perm string, expires time.Time) gateway.IssueOptions {
	return gateway.IssueOptions{Name: "k", Owner: "alice", Permissions: []string{perm}, ExpiresAt: expires}
}

func gatewayLimit(burst int, every time.Duration) gateway.AuthFailureLimit {
	return gateway.AuthFailureLimit{Burst: burst, Every: every}
}
