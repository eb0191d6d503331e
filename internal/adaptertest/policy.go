package adaptertest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// The keys of the policy table: none has no permission, each of the next
// four exactly one permission of one kind, star may do everything.
var policyKeys = []struct{ name, perm string }{
	{"none", ""},
	{"tool", "tools:call:echo"},
	{"resource", "resources:read:test://docs/*"},
	{"prompt", "prompts:get:greet"},
	{"method", "mcp:" + SearchMethod},
	{"star", "*"},
}

// CodeMethodNotFound is JSON-RPC's error code of a method the server does
// not serve.
const CodeMethodNotFound = -32601

// refusedBySDK stands for the outcome of a method the SDK does not serve
// and refuses before mcpstore sees it, in its own way (go-sdk: HTTP 400).
const refusedBySDK = -1

// request is one MCP request of the table and what each key gets.
type request struct {
	row  string // the method's row in the README's permission table
	name string
	perm string // the permission it needs ("" for none)
	// do sends the request; a list returns the ids it got (every page).
	do func(ctx context.Context, c Client) ([]string, error)
	// allowed names the keys that may make it (every other key is
	// refused); nil for a list, which is never refused.
	allowed []string
	// visible is what each key gets from a list (absent: nothing).
	visible map[string][]string
	// audit is the audit row an allowed or refused request leaves (its
	// status follows from allowed); nil: none.
	audit *auditRow
	// needs is what the SDK must have to serve the request (nil: every
	// SDK has it). Without it, the server answers "method not found":
	// after the policy refused the keys it refuses, or before the policy
	// sees the request at all (see Capabilities).
	needs func(Capabilities) bool
}

type auditRow struct{ action, resourceType, resourceID string }

// outcome is what a key gets from a request on an SDK: run, refused by the
// policy, or not served; and the audit row's status ("" for none).
func (r request) outcome(key string, has Capabilities) (code int, status string) {
	allowed := slices.Contains(r.allowed, key)
	served := r.needs == nil || r.needs(has)
	switch {
	case !served && !has.UnknownMethodsReachPolicy:
		return refusedBySDK, ""
	case !allowed:
		code, status = gateway.CodePermissionDenied, gateway.StatusDenied
	case !served:
		code, status = CodeMethodNotFound, gateway.StatusError
	default:
		status = gateway.StatusSuccess
	}
	if r.audit == nil {
		status = ""
	}
	return code, status
}

func requests() []request {
	call := func(name string) func(context.Context, Client) ([]string, error) {
		return func(ctx context.Context, c Client) ([]string, error) {
			return nil, c.CallTool(ctx, name, map[string]any{"text": "hi"}, nil)
		}
	}
	read := func(uri string) func(context.Context, Client) ([]string, error) {
		return func(ctx context.Context, c Client) ([]string, error) {
			_, err := c.ReadResource(ctx, uri)
			return nil, err
		}
	}
	prompt := func(name string) func(context.Context, Client) ([]string, error) {
		return func(ctx context.Context, c Client) ([]string, error) { return nil, c.GetPrompt(ctx, name) }
	}
	complete := func(refType, nameOrURI string) func(context.Context, Client) ([]string, error) {
		return func(ctx context.Context, c Client) ([]string, error) { return nil, c.Complete(ctx, refType, nameOrURI) }
	}
	list := func(method string) func(context.Context, Client) ([]string, error) {
		return func(ctx context.Context, c Client) ([]string, error) { return listAll(ctx, c, method) }
	}
	custom := func(method string) func(context.Context, Client) ([]string, error) {
		return func(ctx context.Context, c Client) ([]string, error) {
			return nil, c.Custom(ctx, method, map[string]any{"query": "q"})
		}
	}
	tool := func(name string) *auditRow {
		return &auditRow{gateway.MethodToolsCall, gateway.ResourceTypeTool, gateway.QualifiedName(ServerID, name)}
	}
	resource := func(method, uri string) *auditRow {
		return &auditRow{method, gateway.ResourceTypeResource, uri}
	}
	method := func(m string) *auditRow { return &auditRow{m, gateway.ResourceTypeMethod, m} }
	return []request{
		{row: "ping", name: "ping", allowed: keyNames("none tool resource prompt method star"),
			do: func(ctx context.Context, c Client) ([]string, error) { return nil, c.Ping(ctx) }},
		{row: "tools/list", name: "tools/list", do: list(gateway.MethodToolsList),
			visible: map[string][]string{"tool": {"echo"}, "star": {"echo", "secret_tool"}}},
		{row: "tools/call", name: "tools/call echo", perm: "tools:call:echo", allowed: keyNames("tool star"), do: call("echo"), audit: tool("echo")},
		{row: "tools/call", name: "tools/call secret_tool", perm: "tools:call:secret_tool", allowed: keyNames("star"), do: call("secret_tool"), audit: tool("secret_tool")},
		{row: "resources/list", name: "resources/list", do: list(gateway.MethodResourcesList),
			visible: map[string][]string{"resource": {DocURI}, "star": {DocURI, SecretURI}}},
		{row: "resources/templates/list", name: "resources/templates/list", do: list(gateway.MethodResourceTemplatesList),
			visible: map[string][]string{"resource": {DocTemplate}, "star": {DocTemplate}}},
		{row: "resources/read", name: "resources/read doc", perm: "resources:read:" + DocURI, allowed: keyNames("resource star"), do: read(DocURI),
			audit: resource(gateway.MethodResourcesRead, DocURI)},
		{row: "resources/read", name: "resources/read doc by template", perm: "resources:read:test://docs/zzz", allowed: keyNames("resource star"), do: read("test://docs/zzz"),
			audit: resource(gateway.MethodResourcesRead, "test://docs/zzz")},
		{row: "resources/read", name: "resources/read secret", perm: "resources:read:" + SecretURI, allowed: keyNames("star"), do: read(SecretURI),
			audit: resource(gateway.MethodResourcesRead, SecretURI)},
		{row: "resources/subscribe", name: "resources/subscribe doc", perm: "resources:read:" + DocURI, allowed: keyNames("resource star"),
			do:    func(ctx context.Context, c Client) ([]string, error) { return nil, c.Subscribe(ctx, DocURI) },
			audit: resource(gateway.MethodResourcesSubscribe, DocURI)},
		{row: "resources/unsubscribe", name: "resources/unsubscribe secret", perm: "resources:read:" + SecretURI, allowed: keyNames("star"),
			do:    func(ctx context.Context, c Client) ([]string, error) { return nil, c.Unsubscribe(ctx, SecretURI) },
			audit: resource(gateway.MethodResourcesUnsubscribe, SecretURI)},
		{row: "prompts/list", name: "prompts/list", do: list(gateway.MethodPromptsList),
			visible: map[string][]string{"prompt": {"greet"}, "star": {"greet", "secret_prompt"}}},
		{row: "prompts/get", name: "prompts/get greet", perm: "prompts:get:greet", allowed: keyNames("prompt star"), do: prompt("greet"),
			audit: &auditRow{gateway.MethodPromptsGet, gateway.ResourceTypePrompt, ServerID + "/greet"}},
		{row: "prompts/get", name: "prompts/get secret_prompt", perm: "prompts:get:secret_prompt", allowed: keyNames("star"), do: prompt("secret_prompt"),
			audit: &auditRow{gateway.MethodPromptsGet, gateway.ResourceTypePrompt, ServerID + "/secret_prompt"}},
		{row: "completion/complete", name: "completion/complete of a prompt", perm: "prompts:get:greet", allowed: keyNames("prompt star"),
			do:    complete("ref/prompt", "greet"),
			audit: &auditRow{gateway.MethodComplete, gateway.ResourceTypePrompt, ServerID + "/greet"}},
		{row: "completion/complete", name: "completion/complete of a template", perm: "resources:read:" + DocTemplate, allowed: keyNames("resource star"),
			do:    complete("ref/resource", DocTemplate),
			audit: &auditRow{gateway.MethodComplete, gateway.ResourceTypeResourceTemplate, DocTemplate}},
		{row: "completion/complete", name: "completion/complete of a template the server does not serve",
			perm: "resources:read:{x}", allowed: []string{}, do: complete("ref/resource", "{x}"),
			audit: &auditRow{gateway.MethodComplete, gateway.ResourceTypeResourceTemplate, "{x}"}},
		{row: "resources/read", name: "resources/read with dot-segments", perm: "resources:read:test://docs/../secret/b",
			allowed: []string{}, do: read("test://docs/../secret/b"),
			audit: resource(gateway.MethodResourcesRead, "test://docs/../secret/b")},
		{row: "any other method", name: "logging/setLevel", perm: "mcp:logging/setLevel", allowed: keyNames("star"),
			do:    func(ctx context.Context, c Client) ([]string, error) { return nil, c.SetLogLevel(ctx, "debug") },
			audit: method("logging/setLevel")},
		{row: "any other method", name: "a custom method", perm: "mcp:" + SearchMethod, allowed: keyNames("method star"),
			do: custom(SearchMethod), audit: method(SearchMethod),
			needs: func(c Capabilities) bool { return c.CustomMethods }},
		{row: "any other method", name: "tasks/list", perm: "mcp:tasks/list", allowed: keyNames("star"),
			do: custom("tasks/list"), audit: method("tasks/list"),
			needs: func(c Capabilities) bool { return c.Tasks }},
	}
}

func keyNames(s string) []string { return strings.Fields(s) }

// listAll reads every page of a list.
func listAll(ctx context.Context, c Client, method string) ([]string, error) {
	out := []string{}
	cursor := ""
	for range 1000 {
		p, err := c.List(ctx, method, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, p.IDs...)
		if p.Next == "" {
			return out, nil
		}
		cursor = p.Next
	}
	return nil, errEndlessList
}

// PolicyTable sends every MCP request of the table with a key of each
// kind, through each of the SDK's clients over streamable HTTP, on both
// engines: what runs, what is refused with which error, what lists hold,
// and the audit rows left. A revoked key reaches nothing.
func PolicyTable(t *testing.T, sdk SDK) {
	for _, ck := range sdk.Clients {
		t.Run(ck.Name, func(t *testing.T) {
			testdb.EachEngine(t, func(t *testing.T, s db.Store) { policyTable(t, sdk, ck, s) })
		})
	}
}

func policyTable(t *testing.T, sdk SDK, ck ClientKind, s db.Store) {
	ctx := t.Context()
	f := serve(t, sdk, s, Options{}, gateway.KeysOptions{})
	ids := map[string]string{}
	want := map[string][]string{} // by key id: "action resource_type resource_id status"
	for _, k := range policyKeys {
		var perms []string
		if k.perm != "" {
			perms = []string{k.perm}
		}
		raw, id := f.issue(t, "owner-"+k.name, perms...)
		ids[k.name] = id
		c, err := ck.Connect(ctx, f.URL, raw, nil)
		require.NoError(t, err, "every key may connect: initialize and its notification need no permission")
		for _, r := range requests() {
			got, err := r.do(ctx, c)
			if r.allowed == nil { // a list
				require.NoError(t, err, "%s with key %s", r.name, k.name)
				wantList := r.visible[k.name]
				if wantList == nil {
					wantList = []string{}
				}
				assert.Equal(t, wantList, got, "%s with key %s", r.name, k.name)
				continue
			}
			wantCode, status := r.outcome(k.name, sdk.Has)
			switch code, isRPC := ck.Code(err); wantCode {
			case 0:
				assert.NoError(t, err, "%s with key %s runs", r.name, k.name)
			case refusedBySDK:
				assert.Error(t, err, "%s with key %s: the SDK does not serve it", r.name, k.name)
				assert.NotEqual(t, gateway.CodePermissionDenied, code, "%s with key %s: never reaches the policy", r.name, k.name)
			default:
				if assert.True(t, isRPC, "%s with key %s is refused with a JSON-RPC error: %v", r.name, k.name, err) {
					assert.Equal(t, wantCode, code, "%s with key %s: %v", r.name, k.name, err)
					if wantCode == gateway.CodePermissionDenied {
						assert.Contains(t, err.Error(), "permission denied", "%s with key %s", r.name, k.name)
					}
				}
			}
			if status != "" {
				want[id] = append(want[id], r.audit.action+" "+r.audit.resourceType+" "+r.audit.resourceID+" "+status)
			}
		}
		require.NoError(t, c.Close())
	}

	revoked, revokedID := f.issue(t, "owner-revoked", "*")
	require.NoError(t, f.Keys.Revoke(ctx, revokedID, "test"))
	_, err := ck.Connect(ctx, f.URL, revoked, nil)
	assert.Error(t, err, "a revoked key reaches nothing")

	got := map[string][]string{}
	keyName := map[string]string{}
	for name, id := range ids {
		keyName[id] = name
	}
	var refusals []db.AuditLog
	for _, ev := range f.events(t) {
		if ev.Action == gateway.ActionAuth {
			refusals = append(refusals, ev)
			continue
		}
		got[ev.APIKeyID] = append(got[ev.APIKeyID], ev.Action+" "+ev.ResourceType+" "+ev.ResourceID+" "+ev.Status)
		assert.Equal(t, "owner-"+keyName[ev.APIKeyID], ev.UserID, "the audit row names the key's owner")
	}
	for _, k := range policyKeys {
		assert.ElementsMatch(t, want[ids[k.name]], got[ids[k.name]], "audit rows of key %s: reads and runs, allowed or refused; no list, ping or notification", k.name)
	}
	require.Len(t, refusals, 1, "the revoked key's one attempt")
	assert.Equal(t, revokedID, refusals[0].APIKeyID)
	assert.Equal(t, gateway.StatusUnauthorized, refusals[0].Status)
	assert.Equal(t, "invalid API key: revoked", refusals[0].ErrorMessage)
}

var errEndlessList = errors.New("adaptertest: a list did not end after 1,000 pages")
