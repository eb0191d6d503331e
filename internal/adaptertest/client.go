package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/mcphttp"
)

// Client is an MCP client connected to a fixture with one key: what the
// rows do through it. A tool result that reports an error is an error.
type Client interface {
	SessionID() string
	Ping(ctx context.Context) error
	// List reads one page of a list method (tools/list,
	// resources/list, resources/templates/list, prompts/list).
	List(ctx context.Context, method, cursor string) (Page, error)
	CallTool(ctx context.Context, name string, args, meta map[string]any) error
	// ReadResource returns the cache scope of the result.
	ReadResource(ctx context.Context, uri string) (string, error)
	Subscribe(ctx context.Context, uri string) error
	Unsubscribe(ctx context.Context, uri string) error
	GetPrompt(ctx context.Context, name string) error
	// Complete completes the argument "name" of a prompt (ref/prompt,
	// name) or a resource template (ref/resource, uri).
	Complete(ctx context.Context, refType, nameOrURI string) error
	SetLogLevel(ctx context.Context, level string) error
	// Custom sends a method the client has no function for (SearchMethod,
	// tasks/list), with params.
	Custom(ctx context.Context, method string, params map[string]any) error
	Close() error
}

// Page is one page of a list: the ids of its items (names, URIs, URI
// templates), the next cursor and the result's cache scope.
type Page struct {
	IDs        []string
	Next       string
	CacheScope string
}

// ClientKind is a client the rows run with.
type ClientKind struct {
	Name string
	// Connect opens a session (the 2025-11-25 protocol) with key as the
	// bearer token and the headers given.
	Connect func(ctx context.Context, url, key string, hdr map[string]string) (Client, error)
	// Code returns the JSON-RPC error code of an error the client returned.
	Code func(err error) (int, bool)
}

// GoSDKClient is go-sdk's client, which every adapter runs the rows with.
var GoSDKClient = ClientKind{
	Name: "go-sdk",
	Connect: func(ctx context.Context, url, key string, hdr map[string]string) (Client, error) {
		cs, err := ConnectGoSDK(ctx, url, key, hdr, "2025-11-25", nil)
		if err != nil {
			return nil, err
		}
		return goSDK{cs}, nil
	},
	Code: func(err error) (int, bool) {
		var e *jsonrpc.Error
		if errors.As(err, &e) {
			return int(e.Code), true
		}
		return 0, false
	},
}

// customParams and customResult carry the methods go-sdk's client has no
// function for.
type customParams struct {
	mcp.ParamsBase
	Query string `json:"query,omitempty"`
}

type customResult struct {
	mcp.ResultBase
	Hits []string `json:"hits,omitempty"`
}

// customMethods are the methods Client.Custom sends.
var customMethods = []string{SearchMethod, "tasks/list"}

// ConnectGoSDK connects go-sdk's client to url with key over a protocol
// version ("" for go-sdk's newest), with the client's options.
func ConnectGoSDK(ctx context.Context, url, key string, hdr map[string]string, version string, opts *mcp.ClientOptions) (*mcp.ClientSession, error) {
	h := mcphttp.Headers{}
	for k, v := range hdr {
		h[k] = v
	}
	h["Authorization"] = "Bearer " + key
	client := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, opts)
	for _, m := range customMethods {
		if err := mcp.AddSendingCustomMethod[*customParams, *customResult](client, m); err != nil {
			return nil, err
		}
	}
	return client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: url, HTTPClient: &http.Client{Transport: h}, MaxRetries: -1,
	}, &mcp.ClientSessionOptions{ProtocolVersion: version})
}

type goSDK struct{ cs *mcp.ClientSession }

func (c goSDK) SessionID() string              { return c.cs.ID() }
func (c goSDK) Ping(ctx context.Context) error { return c.cs.Ping(ctx, nil) }
func (c goSDK) Close() error                   { return c.cs.Close() }

func (c goSDK) List(ctx context.Context, method, cursor string) (Page, error) {
	switch method {
	case gateway.MethodToolsList:
		r, err := c.cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		if err != nil {
			return Page{}, err
		}
		return page(r.Tools, func(t *mcp.Tool) string { return t.Name }, r.NextCursor, r.CacheScope), nil
	case gateway.MethodResourcesList:
		r, err := c.cs.ListResources(ctx, &mcp.ListResourcesParams{Cursor: cursor})
		if err != nil {
			return Page{}, err
		}
		return page(r.Resources, func(r *mcp.Resource) string { return r.URI }, r.NextCursor, r.CacheScope), nil
	case gateway.MethodResourceTemplatesList:
		r, err := c.cs.ListResourceTemplates(ctx, &mcp.ListResourceTemplatesParams{Cursor: cursor})
		if err != nil {
			return Page{}, err
		}
		return page(r.ResourceTemplates, func(t *mcp.ResourceTemplate) string { return t.URITemplate }, r.NextCursor, r.CacheScope), nil
	case gateway.MethodPromptsList:
		r, err := c.cs.ListPrompts(ctx, &mcp.ListPromptsParams{Cursor: cursor})
		if err != nil {
			return Page{}, err
		}
		return page(r.Prompts, func(p *mcp.Prompt) string { return p.Name }, r.NextCursor, r.CacheScope), nil
	}
	return Page{}, fmt.Errorf("adaptertest: not a list: %s", method)
}

func page[T any, S ~string](items []T, id func(T) string, next string, scope S) Page {
	p := Page{IDs: []string{}, Next: next, CacheScope: string(scope)}
	for _, it := range items {
		p.IDs = append(p.IDs, id(it))
	}
	return p
}

func (c goSDK) CallTool(ctx context.Context, name string, args, meta map[string]any) error {
	res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args, Meta: meta})
	if err == nil && res.IsError {
		err = errors.New("the tool reported an error")
	}
	return err
}

func (c goSDK) ReadResource(ctx context.Context, uri string) (string, error) {
	r, err := c.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
	if err != nil {
		return "", err
	}
	return string(r.CacheScope), nil
}

func (c goSDK) Subscribe(ctx context.Context, uri string) error {
	return c.cs.Subscribe(ctx, &mcp.SubscribeParams{URI: uri})
}

func (c goSDK) Unsubscribe(ctx context.Context, uri string) error {
	return c.cs.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: uri})
}

func (c goSDK) GetPrompt(ctx context.Context, name string) error {
	_, err := c.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: name})
	return err
}

func (c goSDK) Complete(ctx context.Context, refType, nameOrURI string) error {
	ref := &mcp.CompleteReference{Type: refType, Name: nameOrURI}
	if refType == "ref/resource" {
		ref = &mcp.CompleteReference{Type: refType, URI: nameOrURI}
	}
	_, err := c.cs.Complete(ctx, &mcp.CompleteParams{Ref: ref, Argument: mcp.CompleteParamsArgument{Name: "name", Value: "a"}})
	return err
}

func (c goSDK) SetLogLevel(ctx context.Context, level string) error {
	return c.cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: mcp.LoggingLevel(level)})
}

func (c goSDK) Custom(ctx context.Context, method string, params map[string]any) error {
	q, _ := params["query"].(string)
	_, err := mcp.CallCustomMethod[*customParams, *customResult](ctx, c.cs, method, &customParams{Query: q})
	return err
}
