// Package exampleserver is a small MCP server with mcpstore embedded: API
// keys on every request, each key's permissions on every tool, resource
// and prompt (deny by default), every call in the audit log, and the tool
// registry kept in sync. The runnable program is its parent folder;
// `mcpstore demo` starts it too.
package exampleserver

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
)

// ServerID names this server in the registry and the audit log.
const ServerID = "example"

// What the example serves besides its tools: two resources, a template
// over the docs, and two prompts. A key reads the docs with
// "resources:read:example://docs/*"; the secret needs its own permission.
const (
	DocURI         = "example://docs/readme"
	SecretURI      = "example://secrets/db-password"
	DocTemplate    = "example://docs/{name}"
	GreetPrompt    = "greet"
	ReportPrompt   = "admin_report"
	secretResource = "hunter2"
)

// Server is the running example: its HTTP handler and what it holds.
type Server struct {
	Handler http.Handler
	Keys    *gateway.Keys
	Auditor *gateway.Auditor
	gateway *mcpsdk.Gateway
	sync    *mcpsdk.ToolSync
}

type textArgs struct {
	Text string `json:"text" jsonschema:"the text"`
}

type textOut struct {
	Text string `json:"text"`
}

// New builds the example server on store, which must be migrated.
func New(ctx context.Context, store db.Store) (*Server, error) {
	keys, err := gateway.NewKeys(ctx, store, gateway.KeysOptions{})
	if err != nil {
		return nil, err
	}
	auditor := gateway.NewAuditor(store, gateway.AuditorOptions{})
	g := mcpsdk.New(mcpsdk.Options{
		ServerID: ServerID,
		Keys:     keys,
		Auditor:  auditor,
		Registry: gateway.NewRegistry(store, gateway.RegistryOptions{}),
	})

	server := mcp.NewServer(&mcp.Implementation{Name: ServerID, Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Returns its text."},
		func(_ context.Context, _ *mcp.CallToolRequest, in textArgs) (*mcp.CallToolResult, textOut, error) {
			return nil, textOut{in.Text}, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "upper", Description: "Returns its text in capitals."},
		func(_ context.Context, _ *mcp.CallToolRequest, in textArgs) (*mcp.CallToolResult, textOut, error) {
			return nil, textOut{strings.ToUpper(in.Text)}, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "delete_everything", Description: "Needs a permission few keys have."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, textOut, error) {
			return nil, textOut{"everything deleted"}, nil
		})
	addResources(server)
	addPrompts(server)
	server.AddReceivingMiddleware(g.Middleware())

	ts, err := g.SyncTools(ctx, server)
	if err != nil {
		return nil, errors.Join(err, g.Close(), auditor.Close(ctx), keys.Close(ctx))
	}
	return &Server{Handler: g.Handler(server, nil), Keys: keys, Auditor: auditor, gateway: g, sync: ts}, nil
}

func addResources(server *mcp.Server) {
	text := func(uri, body string) *mcp.ReadResourceResult {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/plain", Text: body}}}
	}
	server.AddResource(&mcp.Resource{URI: DocURI, Name: "readme", MIMEType: "text/plain"},
		func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return text(DocURI, "Welcome to the example server."), nil
		})
	server.AddResource(&mcp.Resource{URI: SecretURI, Name: "db-password", MIMEType: "text/plain"},
		func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return text(SecretURI, secretResource), nil
		})
	server.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: DocTemplate, Name: "docs", MIMEType: "text/plain"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return text(req.Params.URI, "The document at "+req.Params.URI+"."), nil
		})
}

func addPrompts(server *mcp.Server) {
	server.AddPrompt(&mcp.Prompt{Name: GreetPrompt, Description: "Greets someone.",
		Arguments: []*mcp.PromptArgument{{Name: "name", Required: true}}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user",
				Content: &mcp.TextContent{Text: "Say hello to " + req.Params.Arguments["name"] + "."}}}}, nil
		})
	server.AddPrompt(&mcp.Prompt{Name: ReportPrompt, Description: "Needs a permission few keys have."},
		func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user",
				Content: &mcp.TextContent{Text: "Summarise every key and its owner."}}}}, nil
		})
}

// Close stops syncing and watching keys, flushes the audit log and the
// keys' last-use times.
func (s *Server) Close(ctx context.Context) error {
	return errors.Join(s.sync.Close(), s.gateway.Close(), s.Auditor.Close(ctx), s.Keys.Close(ctx))
}
