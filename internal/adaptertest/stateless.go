package adaptertest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// PolicyStateless: the same rules hold on the stateless protocol (go-sdk's
// client at its newest, a server without sessions): its handshake
// (server/discover) and its notification stream (subscriptions/listen)
// need no permission unless the stream subscribes to resources, which is
// decided and audited per resource.
func PolicyStateless(t *testing.T, sdk SDK) {
	if !sdk.Has.StatelessProtocol {
		t.Logf("%s: no stateless protocol between go-sdk's client and this server (Capabilities.StatelessProtocol)", sdk.Name)
		return
	}
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := serve(t, sdk, s, Options{Stateless: true}, gateway.KeysOptions{})
		ids := map[string]string{}
		for _, k := range []struct{ name, perm string }{{"none", ""}, {"resource", "resources:read:test://docs/*"}, {"star", "*"}} {
			var perms []string
			if k.perm != "" {
				perms = []string{k.perm}
			}
			raw, id := f.issue(t, "alice", perms...)
			cs, err := ConnectGoSDK(ctx, f.URL, raw, nil, "", &mcp.ClientOptions{
				ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {},
			})
			require.NoError(t, err, "key %s: discover and the list-change stream need no permission", k.name)
			assert.Empty(t, cs.ID(), "stateless: no session")
			c := goSDK{cs}
			for _, r := range requests() {
				switch r.row {
				case "resources/subscribe", "resources/unsubscribe", "any other method":
					continue // the stateless protocol subscribes through subscriptions/listen
				case "ping":
					continue // removed from the stateless protocol
				}
				got, err := r.do(ctx, c)
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
				} else if code, ok := GoSDKClient.Code(err); assert.True(t, ok, "%s with key %s: %v", r.name, k.name, err) {
					assert.Equal(t, gateway.CodePermissionDenied, code)
				}
			}
			// go-sdk's client subscribes in the background (its Subscribe
			// returns before the server answers): the audit log says what
			// the server decided.
			recorded := f.Auditor.Stats().Recorded
			if k.name != "none" {
				require.NoError(t, cs.Subscribe(ctx, &mcp.SubscribeParams{URI: DocURI}))
			}
			require.NoError(t, cs.Subscribe(ctx, &mcp.SubscribeParams{URI: SecretURI}))
			ids[k.name] = id
			// Before closing, wait for the server to hold the streams it
			// allowed (the list-change stream and each allowed
			// subscription) and to have refused the others (audited at
			// once).
			open, refused := map[string]int{"none": 1, "resource": 2, "star": 3}[k.name], map[string]uint64{"none": 1, "resource": 1}[k.name]
			require.Eventually(t, func() bool {
				return f.Streams() == open && f.Auditor.Stats().Recorded-recorded == refused
			}, 10*time.Second, 5*time.Millisecond, "key %s: streams held and refusals audited", k.name)
			require.NoError(t, cs.Close())
			subscriptions := uint64(map[string]int{"none": 1, "resource": 2, "star": 2}[k.name])
			require.Eventually(t, func() bool {
				return f.Streams() == 0 && f.Auditor.Stats().Recorded-recorded == subscriptions
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
		assert.ElementsMatch(t, []string{SecretURI + " denied"}, listens["none"])
		assert.ElementsMatch(t, []string{DocURI + " success", SecretURI + " denied"}, listens["resource"])
		assert.ElementsMatch(t, []string{DocURI + " success", SecretURI + " success"}, listens["star"])
	})
}
