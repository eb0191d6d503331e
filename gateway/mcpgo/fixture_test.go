package mcpgo_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpstore/mcpstore/gateway/mcpgo"
	"github.com/mcpstore/mcpstore/internal/adaptertest"
)

// mcpGo is this adapter as the adapter suite runs it: mcp-go has no custom
// methods but has tasks, and every method, served or not, reaches the
// policy first (Handler decides before mcp-go dispatches).
var mcpGo = adaptertest.SDK{
	Name:    "mcp-go",
	Serve:   serveFixture,
	Clients: []adaptertest.ClientKind{adaptertest.GoSDKClient, mcpGoClient},
	Has:     adaptertest.Capabilities{Tasks: true, UnknownMethodsReachPolicy: true, StatelessProtocol: true},
}

// serveFixture serves what adaptertest's fixture serves, on mcp-go, behind
// a Gateway.
func serveFixture(t *testing.T, env adaptertest.Env, o adaptertest.Options) adaptertest.Served {
	g := mcpgo.New(mcpgo.Options{
		ServerID: adaptertest.ServerID, Keys: env.Keys, Auditor: env.Auditor, AuditLists: o.AuditLists,
		TrustedProxies: o.TrustedProxies, AuthFailureLimit: o.AuthFailureLimit,
	})
	t.Cleanup(func() { g.Close() })
	var seen serverView
	opts := []server.ServerOption{
		server.WithHooks(seen.hooks()),
		server.WithToolCapabilities(true), server.WithResourceCapabilities(true, true), server.WithPromptCapabilities(true),
		server.WithLogging(), server.WithCompletions(), server.WithTaskCapabilities(true, true, true),
		server.WithPromptCompletionProvider(completions{}), server.WithResourceCompletionProvider(completions{}),
	}
	if o.PageSize > 0 {
		opts = append(opts, server.WithPaginationLimit(o.PageSize))
	}
	s := server.NewMCPServer("fixture", "1", opts...)
	addEcho(s, "echo")
	addEcho(s, "secret_tool")
	for _, uri := range []string{adaptertest.DocURI, adaptertest.SecretURI} {
		s.AddResource(mcp.NewResource(uri, uri), readText)
	}
	s.AddResourceTemplate(mcp.NewResourceTemplate(adaptertest.DocTemplate, "docs"), readText)
	for _, name := range []string{"greet", "secret_prompt"} {
		s.AddPrompt(mcp.NewPrompt(name), func(_ context.Context, r mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return mcp.NewGetPromptResult("", []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(r.Params.Name))}), nil
		})
	}
	var httpOpts []server.StreamableHTTPOption
	if o.Stateless {
		httpOpts = append(httpOpts, server.WithStateLess(true))
	}
	hs := httptest.NewServer(g.Handler(s, httpOpts...))
	t.Cleanup(hs.Close)
	return adaptertest.Served{
		URL:         hs.URL,
		AddTool:     func(name string) { addEcho(s, name) },
		SessionOpen: seen.open,
		Streams:     seen.streams,
	}
}

func addEcho(s *server.MCPServer, name string) {
	s.AddTool(mcp.NewTool(name, mcp.WithDescription("echoes "+name), mcp.WithString("text", mcp.Required())),
		func(_ context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(r.GetString("text", "")), nil
		})
}

func readText(_ context.Context, r mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: r.Params.URI, Text: "contents of " + r.Params.URI}}, nil
}

type completions struct{}

func (completions) CompletePromptArgument(context.Context, string, mcp.CompleteArgument, mcp.CompleteContext) (*mcp.Completion, error) {
	return &mcp.Completion{Values: []string{"a"}}, nil
}

func (completions) CompleteResourceArgument(context.Context, string, mcp.CompleteArgument, mcp.CompleteContext) (*mcp.Completion, error) {
	return &mcp.Completion{Values: []string{"a"}}, nil
}

// serverView is what the server itself holds, as its own hooks see it:
// the sessions it registered, and its subscriptions/listen streams.
type serverView struct {
	mu       sync.Mutex
	sessions map[string]bool
	listens  int
}

func (v *serverView) hooks() *server.Hooks {
	h := &server.Hooks{}
	h.AddOnRegisterSession(func(_ context.Context, s server.ClientSession) {
		v.mu.Lock()
		defer v.mu.Unlock()
		if v.sessions == nil {
			v.sessions = map[string]bool{}
		}
		v.sessions[s.SessionID()] = true
	})
	h.AddOnUnregisterSession(func(_ context.Context, s server.ClientSession) {
		v.mu.Lock()
		defer v.mu.Unlock()
		delete(v.sessions, s.SessionID())
	})
	h.AddBeforeSubscriptionsListen(func(context.Context, any, *mcp.SubscriptionsListenRequest) {
		v.mu.Lock()
		defer v.mu.Unlock()
		v.listens++
	})
	ended := func(method mcp.MCPMethod) {
		if method == mcp.MethodSubscriptionsListen {
			v.mu.Lock()
			defer v.mu.Unlock()
			v.listens--
		}
	}
	h.AddOnSuccess(func(_ context.Context, _ any, method mcp.MCPMethod, _ any, _ any) { ended(method) })
	h.AddOnError(func(_ context.Context, _ any, method mcp.MCPMethod, _ any, _ error) { ended(method) })
	return h
}

func (v *serverView) open(id string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.sessions[id]
}

func (v *serverView) streams() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.listens
}
