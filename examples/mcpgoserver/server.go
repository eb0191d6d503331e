package main

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpgo"
)

// ServerID names this server in the registry and the audit log.
const ServerID = "example"

// What the example serves besides its tools, as examples/mcpserver does: a
// key reads the docs with "resources:read:example://docs/*"; the secret
// needs its own permission.
const (
	DocURI       = "example://docs/readme"
	SecretURI    = "example://secrets/db-password"
	DocTemplate  = "example://docs/{name}"
	GreetPrompt  = "greet"
	ReportPrompt = "admin_report"
)

// Server is the running example: its HTTP handler and what it holds.
type Server struct {
	Handler http.Handler
	Keys    *gateway.Keys
	Auditor *gateway.Auditor
	gateway *mcpgo.Gateway
	sync    *mcpgo.ToolSync
}

// New builds the example server on store, which must be migrated.
func New(ctx context.Context, store db.Store) (*Server, error) {
	keys, err := gateway.NewKeys(ctx, store, gateway.KeysOptions{})
	if err != nil {
		return nil, err
	}
	auditor := gateway.NewAuditor(store, gateway.AuditorOptions{})
	g := mcpgo.New(mcpgo.Options{
		ServerID: ServerID,
		Keys:     keys,
		Auditor:  auditor,
		Registry: gateway.NewRegistry(store, gateway.RegistryOptions{}),
	})

	s := server.NewMCPServer(ServerID, "1.0.0", server.WithResourceCapabilities(false, true))
	text := mcp.WithString("text", mcp.Required(), mcp.Description("the text"))
	s.AddTool(mcp.NewTool("echo", mcp.WithDescription("Returns its text."), text),
		func(_ context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(r.GetString("text", "")), nil
		})
	s.AddTool(mcp.NewTool("upper", mcp.WithDescription("Returns its text in capitals."), text),
		func(_ context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(strings.ToUpper(r.GetString("text", ""))), nil
		})
	s.AddTool(mcp.NewTool("delete_everything", mcp.WithDescription("Needs a permission few keys have.")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText("everything deleted"), nil
		})
	addResources(s)
	addPrompts(s)

	ts, err := g.SyncTools(ctx, s)
	if err != nil {
		return nil, errors.Join(err, g.Close(), auditor.Close(ctx), keys.Close(ctx))
	}
	return &Server{Handler: g.Handler(s), Keys: keys, Auditor: auditor, gateway: g, sync: ts}, nil
}

func addResources(s *server.MCPServer) {
	text := func(uri, body string) []mcp.ResourceContents {
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: uri, MIMEType: "text/plain", Text: body}}
	}
	s.AddResource(mcp.NewResource(DocURI, "readme", mcp.WithMIMEType("text/plain")),
		func(context.Context, mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			return text(DocURI, "Welcome to the example server."), nil
		})
	s.AddResource(mcp.NewResource(SecretURI, "db-password", mcp.WithMIMEType("text/plain")),
		func(context.Context, mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			return text(SecretURI, "hunter2"), nil
		})
	s.AddResourceTemplate(mcp.NewResourceTemplate(DocTemplate, "docs", mcp.WithTemplateMIMEType("text/plain")),
		func(_ context.Context, r mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			return text(r.Params.URI, "The document at "+r.Params.URI+"."), nil
		})
}

func addPrompts(s *server.MCPServer) {
	s.AddPrompt(mcp.NewPrompt(GreetPrompt, mcp.WithPromptDescription("Greets someone."),
		mcp.WithArgument("name", mcp.RequiredArgument())),
		func(_ context.Context, r mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return mcp.NewGetPromptResult("", []mcp.PromptMessage{
				mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent("Say hello to "+r.Params.Arguments["name"]+".")),
			}), nil
		})
	s.AddPrompt(mcp.NewPrompt(ReportPrompt, mcp.WithPromptDescription("Needs a permission few keys have.")),
		func(context.Context, mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return mcp.NewGetPromptResult("", []mcp.PromptMessage{
				mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent("Summarise every key and its owner.")),
			}), nil
		})
}

// Close stops syncing and watching keys, flushes the audit log and the
// keys' last-use times.
func (s *Server) Close(ctx context.Context) error {
	return errors.Join(s.sync.Close(), s.gateway.Close(), s.Auditor.Close(ctx), s.Keys.Close(ctx))
}
