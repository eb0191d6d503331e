package adaptertest

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// FilteredListPages: paging a filtered tools/list with a page size of 1
// over 1,000 tools of which the key may call 10 yields exactly those 10,
// one a page, and no cursor names another tool. A cursor the adapter did
// not make is refused; lists and reads are private to their key.
func FilteredListPages(t *testing.T, sdk SDK) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := serve(t, sdk, s, Options{PageSize: 1}, gateway.KeysOptions{})
		var allowed []string
		for i := range 1000 {
			name := fmt.Sprintf("tool_%04d", i)
			f.AddTool(name)
			if i%100 == 7 {
				allowed = append(allowed, name)
			}
		}
		var perms []string
		for _, n := range allowed {
			perms = append(perms, "tools:call:"+n)
		}
		raw, _ := f.issue(t, "alice", perms...)
		cs, err := ConnectGoSDK(ctx, f.URL, raw, nil, "2025-11-25", nil)
		require.NoError(t, err)
		defer cs.Close()

		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20, "paging ends")
			res, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
			require.NoError(t, err)
			assert.LessOrEqual(t, len(res.Tools), 1, "the server's page size is honoured")
			assert.Equal(t, "private", string(res.CacheScope), "a filtered list is for its key alone")
			for _, tool := range res.Tools {
				got = append(got, tool.Name)
			}
			if res.NextCursor == "" {
				break
			}
			decoded, err := base64.RawURLEncoding.DecodeString(res.NextCursor)
			require.NoError(t, err)
			assert.Contains(t, allowed, string(decoded), "a cursor holds only a name the key may see")
			cursor = res.NextCursor
		}
		assert.Equal(t, allowed, got)

		// Cursors the adapter did not make: not base64url, or padded (the
		// server's own, in mcp-go's standard base64).
		for _, bad := range []string{"!!not a cursor", base64.StdEncoding.EncodeToString([]byte("tool_0500>"))} {
			_, err = cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: bad})
			if code, ok := GoSDKClient.Code(err); assert.True(t, ok, "cursor %q: %v", bad, err) {
				assert.Equal(t, -32602, code, "cursor %q: invalid params", bad)
			}
			assert.ErrorContains(t, err, "invalid cursor", "cursor %q", bad)
		}
		// A made-up cursor of the adapter's kind names a point in the
		// list, and yields what the key sees after it: nothing more.
		res, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: base64.RawURLEncoding.EncodeToString([]byte("tool_0500"))})
		require.NoError(t, err)
		for _, tool := range res.Tools {
			assert.Contains(t, allowed, tool.Name)
		}

		// What a key gets depends on its permissions, even when they are
		// "*": private to it.
		star, _ := f.issue(t, "alice", "*")
		all, err := ConnectGoSDK(ctx, f.URL, star, nil, "2025-11-25", nil)
		require.NoError(t, err)
		defer all.Close()
		res, err = all.ListTools(ctx, nil)
		require.NoError(t, err)
		assert.Len(t, res.Tools, 1, "page size 1 for * too")
		assert.Equal(t, "private", string(res.CacheScope))
		read, err := all.ReadResource(ctx, &mcp.ReadResourceParams{URI: DocURI})
		require.NoError(t, err)
		assert.Equal(t, "private", string(read.CacheScope))
	})
}
