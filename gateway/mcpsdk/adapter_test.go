package mcpsdk_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
	"github.com/mcpstore/mcpstore/internal/adaptertest"
)

// goSDK is this adapter as the adapter suite runs it: go-sdk serves
// custom methods, and answers a method it does not serve itself, before
// any middleware.
var goSDK = adaptertest.SDK{
	Name:    "go-sdk",
	Serve:   serveFixture,
	Clients: []adaptertest.ClientKind{adaptertest.GoSDKClient},
	Has:     adaptertest.Capabilities{CustomMethods: true, StatelessProtocol: true},
}

func TestPolicyTable(t *testing.T)               { adaptertest.PolicyTable(t, goSDK) }
func TestPolicyStateless(t *testing.T)           { adaptertest.PolicyStateless(t, goSDK) }
func TestSessionsBoundToKey(t *testing.T)        { adaptertest.SessionsBoundToKey(t, goSDK) }
func TestRevokedKeyEndsItsSessions(t *testing.T) { adaptertest.RevokedKeyEndsItsSessions(t, goSDK) }
func TestExpiredKeyEndsItsSessions(t *testing.T) { adaptertest.ExpiredKeyEndsItsSessions(t, goSDK) }
func TestFilteredListPages(t *testing.T)         { adaptertest.FilteredListPages(t, goSDK) }
func TestRequestsWithoutParams(t *testing.T)     { adaptertest.RequestsWithoutParams(t, goSDK) }
func TestAuthFailuresLimitedPerAddress(t *testing.T) {
	adaptertest.AuthFailuresLimitedPerAddress(t, goSDK)
}
func TestHTTPAuditFields(t *testing.T)          { adaptertest.HTTPAuditFields(t, goSDK) }
func TestHTTPDatabaseFailureIs500(t *testing.T) { adaptertest.HTTPDatabaseFailureIs500(t, goSDK) }

type searchParams struct {
	mcp.ParamsBase
	Query string `json:"query"`
}

type searchResult struct {
	mcp.ResultBase
	Hits []string `json:"hits"`
}

// serveFixture serves what adaptertest's fixture serves, on go-sdk, behind
// a Gateway.
func serveFixture(t *testing.T, env adaptertest.Env, o adaptertest.Options) adaptertest.Served {
	g := mcpsdk.New(mcpsdk.Options{
		ServerID: adaptertest.ServerID, Keys: env.Keys, Auditor: env.Auditor, AuditLists: o.AuditLists,
		TrustedProxies: o.TrustedProxies, AuthFailureLimit: o.AuthFailureLimit,
	})
	t.Cleanup(func() { g.Close() })
	server := mcp.NewServer(&mcp.Implementation{Name: "fixture", Version: "1"}, &mcp.ServerOptions{
		PageSize: o.PageSize,
		CompletionHandler: func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
			return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{"a"}}}, nil
		},
		SubscribeHandler:   func(context.Context, *mcp.SubscribeRequest) error { return nil },
		UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
	})
	addEcho(server, "echo")
	addEcho(server, "secret_tool")
	for _, uri := range []string{adaptertest.DocURI, adaptertest.SecretURI} {
		server.AddResource(&mcp.Resource{URI: uri, Name: uri}, readText)
	}
	server.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: adaptertest.DocTemplate, Name: "docs"}, readText)
	for _, name := range []string{"greet", "secret_prompt"} {
		server.AddPrompt(&mcp.Prompt{Name: name}, func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: req.Params.Name}}}}, nil
		})
	}
	require.NoError(t, mcp.AddReceivingCustomMethod(server, adaptertest.SearchMethod,
		func(_ context.Context, _ *mcp.ServerSession, p *searchParams) (*searchResult, error) {
			return &searchResult{Hits: []string{p.Query}}, nil
		}))
	server.AddReceivingMiddleware(g.Middleware())
	hs := httptest.NewServer(g.Handler(server, &mcp.StreamableHTTPOptions{Stateless: o.Stateless}))
	t.Cleanup(hs.Close)
	sessions := func() []string {
		var ids []string
		for ss := range server.Sessions() {
			ids = append(ids, ss.ID())
		}
		return ids
	}
	return adaptertest.Served{
		URL:     hs.URL,
		AddTool: func(name string) { addEcho(server, name) },
		SessionOpen: func(id string) bool {
			for _, s := range sessions() {
				if s == id {
					return true
				}
			}
			return false
		},
		Streams: func() int { return len(sessions()) },
	}
}

func readText(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "contents of " + req.Params.URI}}}, nil
}
func TestHostileRequests(t *testing.T) { adaptertest.HostileRequests(t, goSDK) }
func TestClientsCannotEvadeTheAuditLog(t *testing.T) {
	adaptertest.ClientsCannotEvadeTheAuditLog(t, goSDK)
}
