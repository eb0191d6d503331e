package mcpsdk_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// The keys of the policy table: none has no permission, each of the next
// four exactly one permission of one kind, star may do everything.
var policyKeys = []struct{ name, perm string }{
	{"none", ""},
	{"tool", "tools:call:echo"},
	{"resource", "resources:read:test://docs/*"},
	{"prompt", "prompts:get:greet"},
	{"method", "mcp:" + searchCall},
	{"star", "*"},
}

// policyRequest is one MCP request of the table and what each key gets.
type policyRequest struct {
	row  string // the method's row in the README's permission table
	name string
	perm string // the permission it needs ("" for none)
	// do sends the request; a list returns the ids it got.
	do func(ctx context.Context, cs *mcp.ClientSession) ([]string, error)
	// allowed names the keys that may make it (every other key is
	// refused); nil for a list, which is never refused.
	allowed []string
	// visible is what each key gets from a list (absent: nothing).
	visible map[string][]string
	// audit is the audit row an allowed or refused request leaves (its
	// status follows from allowed); nil: none.
	audit *auditRow
}

type auditRow struct{ action, resourceType, resourceID string }

func policyRequests() []policyRequest {
	call := func(name string) func(context.Context, *mcp.ClientSession) ([]string, error) {
		return func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"text": "hi"}})
			if err == nil && res.IsError {
				err = errors.New("tool error")
			}
			return nil, err
		}
	}
	read := func(uri string) func(context.Context, *mcp.ClientSession) ([]string, error) {
		return func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
			_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
			return nil, err
		}
	}
	prompt := func(name string) func(context.Context, *mcp.ClientSession) ([]string, error) {
		return func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
			_, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: name})
			return nil, err
		}
	}
	complete := func(ref *mcp.CompleteReference) func(context.Context, *mcp.ClientSession) ([]string, error) {
		return func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
			_, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: ref, Argument: mcp.CompleteParamsArgument{Name: "name", Value: "a"}})
			return nil, err
		}
	}
	tool := func(name string) *auditRow {
		return &auditRow{gateway.MethodToolsCall, gateway.ResourceTypeTool, gateway.QualifiedName("srv", name)}
	}
	resource := func(method, uri string) *auditRow {
		return &auditRow{method, gateway.ResourceTypeResource, uri}
	}
	return []policyRequest{
		{row: "ping", name: "ping", allowed: keyNames("none tool resource prompt method star"),
			do: func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) { return nil, cs.Ping(ctx, nil) }},
		{row: "tools/list", name: "tools/list",
			visible: map[string][]string{"tool": {"echo"}, "star": {"echo", "secret_tool"}},
			do: func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
				return collect(cs.Tools(ctx, nil), func(t *mcp.Tool) string { return t.Name })
			}},
		{row: "tools/call", name: "tools/call echo", perm: "tools:call:echo", allowed: keyNames("tool star"), do: call("echo"), audit: tool("echo")},
		{row: "tools/call", name: "tools/call secret_tool", perm: "tools:call:secret_tool", allowed: keyNames("star"), do: call("secret_tool"), audit: tool("secret_tool")},
		{row: "resources/list", name: "resources/list",
			visible: map[string][]string{"resource": {docURI}, "star": {docURI, secretURI}},
			do: func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
				return collect(cs.Resources(ctx, nil), func(r *mcp.Resource) string { return r.URI })
			}},
		{row: "resources/templates/list", name: "resources/templates/list",
			visible: map[string][]string{"resource": {docTemplate}, "star": {docTemplate}},
			do: func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
				return collect(cs.ResourceTemplates(ctx, nil), func(r *mcp.ResourceTemplate) string { return r.URITemplate })
			}},
		{row: "resources/read", name: "resources/read doc", perm: "resources:read:" + docURI, allowed: keyNames("resource star"), do: read(docURI),
			audit: resource(gateway.MethodResourcesRead, docURI)},
		{row: "resources/read", name: "resources/read doc by template", perm: "resources:read:test://docs/zzz", allowed: keyNames("resource star"), do: read("test://docs/zzz"),
			audit: resource(gateway.MethodResourcesRead, "test://docs/zzz")},
		{row: "resources/read", name: "resources/read secret", perm: "resources:read:" + secretURI, allowed: keyNames("star"), do: read(secretURI),
			audit: resource(gateway.MethodResourcesRead, secretURI)},
		{row: "resources/subscribe", name: "resources/subscribe doc", perm: "resources:read:" + docURI, allowed: keyNames("resource star"),
			do: func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
				return nil, cs.Subscribe(ctx, &mcp.SubscribeParams{URI: docURI})
			}, audit: resource(gateway.MethodResourcesSubscribe, docURI)},
		{row: "resources/unsubscribe", name: "resources/unsubscribe secret", perm: "resources:read:" + secretURI, allowed: keyNames("star"),
			do: func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
				return nil, cs.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: secretURI})
			}, audit: resource(gateway.MethodResourcesUnsubscribe, secretURI)},
		{row: "prompts/list", name: "prompts/list",
			visible: map[string][]string{"prompt": {"greet"}, "star": {"greet", "secret_prompt"}},
			do: func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
				return collect(cs.Prompts(ctx, nil), func(p *mcp.Prompt) string { return p.Name })
			}},
		{row: "prompts/get", name: "prompts/get greet", perm: "prompts:get:greet", allowed: keyNames("prompt star"), do: prompt("greet"),
			audit: &auditRow{gateway.MethodPromptsGet, gateway.ResourceTypePrompt, "srv/greet"}},
		{row: "prompts/get", name: "prompts/get secret_prompt", perm: "prompts:get:secret_prompt", allowed: keyNames("star"), do: prompt("secret_prompt"),
			audit: &auditRow{gateway.MethodPromptsGet, gateway.ResourceTypePrompt, "srv/secret_prompt"}},
		{row: "completion/complete", name: "completion/complete of a prompt", perm: "prompts:get:greet", allowed: keyNames("prompt star"),
			do:    complete(&mcp.CompleteReference{Type: "ref/prompt", Name: "greet"}),
			audit: &auditRow{gateway.MethodComplete, gateway.ResourceTypePrompt, "srv/greet"}},
		{row: "completion/complete", name: "completion/complete of a template", perm: "resources:read:" + docTemplate, allowed: keyNames("resource star"),
			do:    complete(&mcp.CompleteReference{Type: "ref/resource", URI: docTemplate}),
			audit: &auditRow{gateway.MethodComplete, gateway.ResourceTypeResourceTemplate, docTemplate}},
		{row: "completion/complete", name: "completion/complete of a template the server does not serve",
			perm: "resources:read:{x}", allowed: []string{},
			do:    complete(&mcp.CompleteReference{Type: "ref/resource", URI: "{x}"}),
			audit: &auditRow{gateway.MethodComplete, gateway.ResourceTypeResourceTemplate, "{x}"}},
		{row: "resources/read", name: "resources/read with dot-segments", perm: "resources:read:test://docs/../secret/b",
			allowed: []string{}, do: read("test://docs/../secret/b"),
			audit: resource(gateway.MethodResourcesRead, "test://docs/../secret/b")},
		{row: "any other method", name: "logging/setLevel", perm: "mcp:logging/setLevel", allowed: keyNames("star"),
			do: func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
				return nil, cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"})
			}, audit: &auditRow{"logging/setLevel", gateway.ResourceTypeMethod, "logging/setLevel"}},
		{row: "any other method", name: "a custom method", perm: "mcp:" + searchCall, allowed: keyNames("method star"),
			do: func(ctx context.Context, cs *mcp.ClientSession) ([]string, error) {
				_, err := mcp.CallCustomMethod[*searchParams, *searchResult](ctx, cs, searchCall, &searchParams{Query: "q"})
				return nil, err
			}, audit: &auditRow{searchCall, gateway.ResourceTypeMethod, searchCall}},
	}
}

func keyNames(s string) []string { return strings.Fields(s) }

func collect[T any](seq func(func(T, error) bool), id func(T) string) ([]string, error) {
	out := []string{}
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, id(v))
	}
	return out, nil
}

// Every MCP method, through a go-sdk client over streamable HTTP, with a
// key of each kind: what runs, what is refused with which error, what lists
// hold, and the audit rows left, on both engines. A revoked key reaches
// nothing.
func TestPolicyTable(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := newFixture(t, s, mcpsdk.Options{}, nil)
		ids := map[string]string{}
		want := map[string][]auditRow{}       // by key id
		wantStatus := map[auditRow][]string{} // statuses, by row
		for _, k := range policyKeys {
			var perms []string
			if k.perm != "" {
				perms = []string{k.perm}
			}
			raw, id := f.issue(t, "owner-"+k.name, perms...)
			ids[k.name] = id
			cs, err := f.connect(ctx, raw, nil)
			require.NoError(t, err, "every key may connect: initialize and its notification need no permission")
			for _, r := range policyRequests() {
				got, err := r.do(ctx, cs)
				if r.allowed == nil { // a list
					require.NoError(t, err, "%s with key %s", r.name, k.name)
					wantList := r.visible[k.name]
					if wantList == nil {
						wantList = []string{}
					}
					assert.Equal(t, wantList, got, "%s with key %s", r.name, k.name)
					continue
				}
				if slices.Contains(r.allowed, k.name) {
					assert.NoError(t, err, "%s with key %s runs", r.name, k.name)
				} else {
					var rpcErr *jsonrpc.Error
					if assert.True(t, errors.As(err, &rpcErr), "%s with key %s is refused with a JSON-RPC error: %v", r.name, k.name, err) {
						assert.EqualValues(t, gateway.CodePermissionDenied, rpcErr.Code, "%s with key %s", r.name, k.name)
						assert.Contains(t, rpcErr.Message, "permission denied", "%s with key %s", r.name, k.name)
					}
				}
				if r.audit != nil {
					want[id] = append(want[id], *r.audit)
					status := gateway.StatusDenied
					if slices.Contains(r.allowed, k.name) {
						status = gateway.StatusSuccess
					}
					wantStatus[*r.audit] = append(wantStatus[*r.audit], k.name+":"+status)
				}
			}
			require.NoError(t, cs.Close())
		}

		revoked, revokedID := f.issue(t, "owner-revoked", "*")
		require.NoError(t, f.keys.Revoke(ctx, revokedID, "test"))
		_, err := f.connect(ctx, revoked, nil)
		assert.Error(t, err, "a revoked key reaches nothing")

		got := map[string][]auditRow{}
		gotStatus := map[auditRow][]string{}
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
			row := auditRow{ev.Action, ev.ResourceType, ev.ResourceID}
			got[ev.APIKeyID] = append(got[ev.APIKeyID], row)
			gotStatus[row] = append(gotStatus[row], keyName[ev.APIKeyID]+":"+ev.Status)
			assert.Equal(t, "owner-"+keyName[ev.APIKeyID], ev.UserID, "the audit row names the key's owner")
		}
		for _, k := range policyKeys {
			assert.ElementsMatch(t, want[ids[k.name]], got[ids[k.name]], "audit rows of key %s: reads and runs, allowed or refused; no list, ping or notification", k.name)
		}
		for row, statuses := range wantStatus {
			assert.ElementsMatch(t, statuses, gotStatus[row], "statuses of %v", row)
		}
		require.Len(t, refusals, 1, "the revoked key's one attempt")
		assert.Equal(t, revokedID, refusals[0].APIKeyID)
		assert.Equal(t, gateway.StatusUnauthorized, refusals[0].Status)
		assert.Equal(t, "invalid API key: revoked", refusals[0].ErrorMessage)
	})
}

// Every method of the table has its row in the README's permission table,
// and the permission that row names is the one each request needs: each
// key's outcome in TestPolicyTable follows from it by the pattern rule.
func TestPolicyTableMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "### Permissions")
	require.True(t, ok, "README has a Permissions section")
	table, _, _ = strings.Cut(table, "\n\n#")
	perms := map[string][]*regexp.Regexp{} // by method: the permission templates of its row
	listed := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| ") || len(cells) < 4 {
			continue
		}
		var templates []*regexp.Regexp
		for _, m := range regexp.MustCompile("`([a-z]+:[^`]*)`").FindAllStringSubmatch(cells[1], -1) {
			pattern := regexp.QuoteMeta(m[1])
			pattern = regexp.MustCompile(`<[a-z]+>`).ReplaceAllString(pattern, ".+")
			templates = append(templates, regexp.MustCompile("^"+pattern+"$"))
		}
		methods := []string{}
		if strings.HasPrefix(cells[0], "any other method") {
			methods = append(methods, "any other method")
		} else {
			for _, m := range regexp.MustCompile("`([a-z/_]+)`").FindAllStringSubmatch(cells[0], -1) {
				methods = append(methods, m[1])
			}
		}
		for _, method := range methods {
			perms[method] = templates
			listed[method] = strings.HasPrefix(cells[2], "filtered")
		}
	}
	for _, r := range policyRequests() {
		templates, ok := perms[r.row]
		if !assert.True(t, ok, "README's permission table has a row for %s", r.row) {
			continue
		}
		if r.allowed == nil {
			assert.True(t, listed[r.row], "README says %s is filtered", r.row)
			continue
		}
		if r.perm == "" {
			assert.Empty(t, templates, "README says %s needs no permission", r.row)
			continue
		}
		assert.True(t, slices.ContainsFunc(templates, func(re *regexp.Regexp) bool { return re.MatchString(r.perm) }),
			"%s needs %s, which README's row for %s names", r.name, r.perm, r.row)
		for _, k := range policyKeys {
			granted := k.perm != "" && gateway.Allows([]string{k.perm}, r.perm)
			if slices.Contains(r.allowed, k.name) {
				assert.True(t, granted, "%s: key %s runs it, so %q grants %s", r.name, k.name, k.perm, r.perm)
			} else if granted {
				assert.Contains(t, []string{"completion/complete of a template the server does not serve", "resources/read with dot-segments"}, r.name,
					"%s: key %s is refused although %q grants %s", r.name, k.name, k.perm, r.perm)
			}
		}
	}
	for _, m := range []string{"initialize", "ping", "server/discover", "notifications/initialized", "notifications/cancelled", "subscriptions/listen"} {
		assert.Contains(t, perms, m, "README's permission table has a row for %s", m)
	}
}

// The same rules hold on the stateless protocol (go-sdk's newest, served
// with StreamableHTTPOptions.Stateless): its handshake (server/discover)
// and its notification stream (subscriptions/listen) need no permission
// unless the stream subscribes to resources.
func TestPolicyStateless(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := newFixtureHTTP(t, s, mcpsdk.Options{}, nil, &mcp.StreamableHTTPOptions{Stateless: true})
		ids := map[string]string{}
		for _, k := range []struct{ name, perm string }{{"none", ""}, {"resource", "resources:read:test://docs/*"}, {"star", "*"}} {
			var perms []string
			if k.perm != "" {
				perms = []string{k.perm}
			}
			raw, id := f.issue(t, "alice", perms...)
			cs, err := f.connectVersion(ctx, raw, nil, "", &mcp.ClientOptions{
				ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {},
			})
			require.NoError(t, err, "key %s: discover and the list-change stream need no permission", k.name)
			assert.Empty(t, cs.ID(), "stateless: no session")
			for _, r := range policyRequests() {
				switch r.row {
				case "resources/subscribe", "resources/unsubscribe", "any other method":
					continue // the stateless protocol subscribes through subscriptions/listen
				case "ping":
					continue // go-sdk's client sends ping without the _meta its own server requires of it
				}
				got, err := r.do(ctx, cs)
				if r.allowed == nil {
					require.NoError(t, err)
					want := r.visible[k.name]
					if want == nil {
						want = []string{}
					}
					assert.Equal(t, want, got, "%s with key %s", r.name, k.name)
					continue
				}
				if slices.Contains(r.allowed, k.name) {
					assert.NoError(t, err, "%s with key %s", r.name, k.name)
				} else {
					var rpcErr *jsonrpc.Error
					if assert.True(t, errors.As(err, &rpcErr), "%s with key %s: %v", r.name, k.name, err) {
						assert.EqualValues(t, gateway.CodePermissionDenied, rpcErr.Code)
					}
				}
			}
			// go-sdk's client subscribes in the background (its Subscribe
			// returns before the server answers): the audit log says what
			// the server decided.
			recorded := f.auditor.Stats().Recorded
			if k.name != "none" {
				require.NoError(t, cs.Subscribe(ctx, &mcp.SubscribeParams{URI: docURI}))
			}
			require.NoError(t, cs.Subscribe(ctx, &mcp.SubscribeParams{URI: secretURI}))
			ids[k.name] = id
			// Before closing, wait for the server to hold the streams it
			// allowed (the list-change stream and each allowed
			// subscription: one ephemeral session each) and to have
			// refused the others (audited at once).
			open, refused := map[string]int{"none": 1, "resource": 2, "star": 3}[k.name], map[string]uint64{"none": 1, "resource": 1}[k.name]
			require.Eventually(t, func() bool {
				n := 0
				for range f.server.Sessions() {
					n++
				}
				return n == open && f.auditor.Stats().Recorded-recorded == refused
			}, 10*time.Second, 5*time.Millisecond, "key %s: streams held and refusals audited", k.name)
			require.NoError(t, cs.Close())
			require.Eventually(t, func() bool {
				for range f.server.Sessions() {
					return false
				}
				return true
			}, 10*time.Second, 5*time.Millisecond, "the streams end with the client, and are audited then")
		}
		listens := map[string][]string{}
		for _, ev := range f.events(t) {
			if ev.Action == gateway.MethodSubscriptionsListen {
				for name, id := range ids {
					if id == ev.APIKeyID {
						listens[name] = append(listens[name], ev.ResourceID+" "+ev.Status)
					}
				}
			}
		}
		assert.ElementsMatch(t, []string{secretURI + " denied"}, listens["none"])
		assert.ElementsMatch(t, []string{docURI + " success", secretURI + " denied"}, listens["resource"])
		assert.ElementsMatch(t, []string{docURI + " success", secretURI + " success"}, listens["star"])
	})
}
