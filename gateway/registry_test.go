package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/gateway"
)

const objSchema = `{"type":"object"}`

func mcpTool(name, desc string) gateway.Tool {
	return gateway.Tool{Name: name, Description: desc, InputSchema: json.RawMessage(objSchema)}
}

// fullTool has every field of a tool definition set.
func fullTool(name string) gateway.Tool {
	return gateway.Tool{
		Name:         name,
		Title:        "The " + name,
		Description:  "does " + name,
		InputSchema:  json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}`),
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}}}`),
		Annotations:  json.RawMessage(`{"readOnlyHint":true,"title":"T"}`),
		Meta:         json.RawMessage(`{"vendor":{"v":1}}`),
	}
}

// respaced is t with its JSON in another key order and spacing: the same
// definition.
func respaced(t gateway.Tool) gateway.Tool {
	t.InputSchema = json.RawMessage(` { "required" : [ "path" ] , "properties" : {"path": {"type":"string"}}, "type" : "object" } `)
	t.OutputSchema = json.RawMessage(`{"properties":{"n":{"type":"integer"}},` + "\n" + `"type":"object"}`)
	t.Annotations = json.RawMessage(`{"title":"T","readOnlyHint":true}`)
	t.Meta = json.RawMessage(`{ "vendor" : { "v" : 1e0 } }`)
	return t
}

// rows returns every stored row of a server, active or not, by name.
func rows(t *testing.T, s db.Store, serverID string) []db.Tool {
	t.Helper()
	out, err := s.Tools().List(t.Context(), db.ToolQuery{ServerID: serverID, Limit: db.MaxLimit})
	require.NoError(t, err)
	slices.SortFunc(out, func(a, b db.Tool) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func names(ts []gateway.RegisteredTool) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// writeCounter counts the rows of tool_registrations inserted or updated,
// with a trigger below the Store's API: a write that changes nothing is
// counted too, which updated_at cannot show.
func writeCounter(t *testing.T, s db.Store) func() int64 {
	t.Helper()
	ctx := t.Context()
	switch st := s.(type) {
	case *postgres.Store:
		for _, q := range []string{
			`CREATE TABLE test_tool_writes (n bigint NOT NULL)`,
			`INSERT INTO test_tool_writes VALUES (0)`,
			`CREATE FUNCTION test_count_tool_write() RETURNS trigger LANGUAGE plpgsql AS $$
			 BEGIN UPDATE test_tool_writes SET n = n + 1; RETURN NULL; END $$`,
			`CREATE TRIGGER test_tool_writes AFTER INSERT OR UPDATE ON tool_registrations
			 FOR EACH ROW EXECUTE FUNCTION test_count_tool_write()`,
		} {
			_, err := st.Pool().Exec(ctx, q)
			require.NoError(t, err)
		}
		return func() int64 {
			var n int64
			require.NoError(t, st.Pool().QueryRow(ctx, `SELECT n FROM test_tool_writes`).Scan(&n))
			return n
		}
	case *sqlite.Store:
		for _, q := range []string{
			`CREATE TABLE test_tool_writes (n INTEGER NOT NULL)`,
			`INSERT INTO test_tool_writes VALUES (0)`,
			`CREATE TRIGGER test_tool_writes_u AFTER UPDATE ON tool_registrations
			 BEGIN UPDATE test_tool_writes SET n = n + 1; END`,
			`CREATE TRIGGER test_tool_writes_i AFTER INSERT ON tool_registrations
			 BEGIN UPDATE test_tool_writes SET n = n + 1; END`,
		} {
			_, err := st.DB().ExecContext(ctx, q)
			require.NoError(t, err)
		}
		return func() int64 {
			var n int64
			require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT n FROM test_tool_writes`).Scan(&n))
			return n
		}
	}
	t.Fatalf("unknown engine %T", s)
	return nil
}

// letClockMove waits until the clock has moved past the coarsest time a
// database keeps (SQLite's julianday('now') is in milliseconds), so that a
// write would show in updated_at.
func letClockMove() {
	start := time.Now()
	for time.Since(start) < 3*time.Millisecond {
		time.Sleep(time.Millisecond)
	}
}

func TestRegistrySyncReports(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})

		rep, err := reg.Sync(ctx, "files", []gateway.Tool{fullTool("read"), mcpTool("write", "w"), mcpTool("delete", "d")})
		require.NoError(t, err)
		assert.Equal(t, gateway.SyncReport{Added: []string{"delete", "read", "write"}}, rep)
		assert.True(t, rep.Changed())
		before := rows(t, s, "files")
		require.Len(t, before, 3)
		letClockMove()

		writes := writeCounter(t, s)
		rep, err = reg.Sync(ctx, "files", []gateway.Tool{
			mcpTool("write", "writes a file"), // changed description
			respaced(fullTool("read")),        // same definition, other JSON spelling
			mcpTool("stat", "s"),              // new
		})
		require.NoError(t, err)
		assert.Equal(t, gateway.SyncReport{
			Added:     []string{"stat"},
			Updated:   []string{"write"},
			Removed:   []string{"delete"},
			Unchanged: []string{"read"},
		}, rep)
		assert.EqualValues(t, 3, writes(), "one insert, one update, one deactivation; the unchanged tool is not written")

		active, err := reg.Tools(ctx, "files")
		require.NoError(t, err)
		assert.Equal(t, []string{"read", "stat", "write"}, names(active))
		for _, tool := range active {
			assert.Equal(t, "files/"+tool.Name, tool.QualifiedName)
			assert.Equal(t, "files", tool.ServerID)
		}

		after := rows(t, s, "files")
		require.Len(t, after, 4, "the removed tool's row is kept")
		byName := map[string]db.Tool{}
		for _, r := range after {
			byName[r.Name] = r
		}
		assert.False(t, byName["delete"].IsActive)
		assert.Equal(t, before[0].ID, byName["delete"].ID)
		assert.Equal(t, before[1], byName["read"], "the unchanged tool's row, updated_at included")
		assert.Equal(t, "writes a file", byName["write"].Description)
		assert.True(t, byName["write"].UpdatedAt.After(before[2].UpdatedAt))
		assert.Equal(t, before[2].CreatedAt, byName["write"].CreatedAt)

		got, err := reg.Get(ctx, "files", "read")
		require.NoError(t, err)
		assert.Equal(t, "The read", got.Title)
		assert.JSONEq(t, string(fullTool("read").OutputSchema), string(got.OutputSchema), "outputSchema is kept")
		assert.JSONEq(t, string(fullTool("read").Annotations), string(got.Annotations), "annotations are kept")
		assert.JSONEq(t, string(fullTool("read").Meta), string(got.Meta), "_meta is kept")
		_, err = reg.Get(ctx, "files", "delete")
		assert.ErrorIs(t, err, db.ErrNotFound, "a removed tool is not offered")
	})
}

func TestRegistrySyncIdempotent(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		list := []gateway.Tool{fullTool("a"), mcpTool("b", "b"), fullTool("c")}
		_, err := reg.Sync(ctx, "srv", list)
		require.NoError(t, err)
		_, err = reg.Sync(ctx, "srv", list[:2]) // leaves an inactive row as well
		require.NoError(t, err)
		first, err := reg.Sync(ctx, "srv", list)
		require.NoError(t, err)
		assert.Equal(t, []string{"c"}, first.Updated)
		before := rows(t, s, "srv")
		letClockMove()

		writes := writeCounter(t, s)
		for range 2 {
			rep, err := reg.Sync(ctx, "srv", []gateway.Tool{respaced(list[2]), list[1], respaced(list[0])})
			require.NoError(t, err)
			assert.Equal(t, gateway.SyncReport{Unchanged: []string{"a", "b", "c"}}, rep)
			assert.False(t, rep.Changed())
		}
		assert.Zero(t, writes(), "a Sync of the list the registry holds writes nothing")
		assert.Equal(t, before, rows(t, s, "srv"), "every row, updated_at included, is as it was")

		_, err = reg.Sync(ctx, "srv", list[:2])
		require.NoError(t, err)
		rep, err := reg.Sync(ctx, "srv", list[:2])
		require.NoError(t, err)
		assert.Equal(t, gateway.SyncReport{Unchanged: []string{"a", "b"}}, rep, "an inactive tool left out stays as it is")
	})
}

func TestRegistryReactivate(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		_, err := reg.Sync(ctx, "srv", []gateway.Tool{mcpTool("a", "a"), mcpTool("b", "b")})
		require.NoError(t, err)
		orig := rows(t, s, "srv")

		rep, err := reg.Sync(ctx, "srv", []gateway.Tool{mcpTool("a", "a")})
		require.NoError(t, err)
		assert.Equal(t, gateway.SyncReport{Removed: []string{"b"}, Unchanged: []string{"a"}}, rep)
		kept := rows(t, s, "srv")
		require.Len(t, kept, 2)
		assert.False(t, kept[1].IsActive)
		assert.Equal(t, orig[1].ID, kept[1].ID)
		assert.Equal(t, "b", kept[1].Description, "a deactivated row keeps its definition")

		// The same definition again: only is_active changes.
		rep, err = reg.Sync(ctx, "srv", []gateway.Tool{mcpTool("a", "a"), mcpTool("b", "b")})
		require.NoError(t, err)
		assert.Equal(t, gateway.SyncReport{Updated: []string{"b"}, Unchanged: []string{"a"}}, rep)
		back, err := reg.Get(ctx, "srv", "b")
		require.NoError(t, err)
		assert.Equal(t, orig[1].ID, back.ID, "reactivated, not inserted again")
		assert.Equal(t, orig[1].CreatedAt, back.CreatedAt)

		// Reactivated with a new definition.
		_, err = reg.Sync(ctx, "srv", nil)
		require.NoError(t, err)
		tools, err := reg.Tools(ctx, "srv")
		require.NoError(t, err)
		assert.Empty(t, tools, "an empty list deactivates everything")
		rep, err = reg.Sync(ctx, "srv", []gateway.Tool{mcpTool("b", "new b")})
		require.NoError(t, err)
		assert.Equal(t, gateway.SyncReport{Updated: []string{"b"}}, rep)
		back, err = reg.Get(ctx, "srv", "b")
		require.NoError(t, err)
		assert.Equal(t, "new b", back.Description)
		assert.Len(t, rows(t, s, "srv"), 2)
	})
}

func TestRegistrySyncRefusesInvalid(t *testing.T) {
	with := func(f func(*gateway.Tool)) gateway.Tool {
		tool := mcpTool("bad", "x")
		f(&tool)
		return tool
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	cases := []struct {
		name  string
		tool  gateway.Tool
		field string
	}{
		{"name empty", mcpTool("", "x"), "name"},
		{"name 129 characters", mcpTool(strings.Repeat("n", 129), "x"), "name"},
		{"name with a space", mcpTool("read file", "x"), "name"},
		{"name with a slash", mcpTool("fs/read", "x"), "name"},
		{"name with a comma", mcpTool("a,b", "x"), "name"},
		{"name not ASCII", mcpTool("lire_ü", "x"), "name"},
		{"name emoji", mcpTool("tool😀", "x"), "name"},
		{"inputSchema missing", with(func(t *gateway.Tool) { t.InputSchema = nil }), "inputSchema"},
		{"inputSchema null", with(func(t *gateway.Tool) { t.InputSchema = raw(`null`) }), "inputSchema"},
		{"inputSchema an array", with(func(t *gateway.Tool) { t.InputSchema = raw(`[{"type":"object"}]`) }), "inputSchema"},
		{"inputSchema a string", with(func(t *gateway.Tool) { t.InputSchema = raw(`"object"`) }), "inputSchema"},
		{"inputSchema without type", with(func(t *gateway.Tool) { t.InputSchema = raw(`{"properties":{}}`) }), "inputSchema"},
		{"inputSchema type string", with(func(t *gateway.Tool) { t.InputSchema = raw(`{"type":"string"}`) }), "inputSchema"},
		{"inputSchema type list", with(func(t *gateway.Tool) { t.InputSchema = raw(`{"type":["object"]}`) }), "inputSchema"},
		{"inputSchema not JSON", with(func(t *gateway.Tool) { t.InputSchema = raw(`{"type":"object"`) }), "inputSchema"},
		{"outputSchema an array", with(func(t *gateway.Tool) { t.OutputSchema = raw(`[]`) }), "outputSchema"},
		{"outputSchema type array", with(func(t *gateway.Tool) { t.OutputSchema = raw(`{"type":"array"}`) }), "outputSchema"},
		{"outputSchema without type", with(func(t *gateway.Tool) { t.OutputSchema = raw(`{}`) }), "outputSchema"},
		{"annotations not an object", with(func(t *gateway.Tool) { t.Annotations = raw(`["readOnlyHint"]`) }), "annotations"},
		{"_meta not an object", with(func(t *gateway.Tool) { t.Meta = raw(`1`) }), "_meta"},
		{"title too long", with(func(t *gateway.Tool) { t.Title = strings.Repeat("t", db.MaxNameLen+1) }), "title"},
		{"description with NUL", with(func(t *gateway.Tool) { t.Description = "a\x00b" }), "description"},
	}
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		_, err := reg.Sync(ctx, "srv", []gateway.Tool{mcpTool("keep", "k"), mcpTool("old", "o")})
		require.NoError(t, err)
		before := rows(t, s, "srv")
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, list := range [][]gateway.Tool{
					{c.tool},
					{mcpTool("keep", "changed"), c.tool, mcpTool("new", "n")},
				} {
					idx := slices.IndexFunc(list, func(x gateway.Tool) bool { return x.Description == c.tool.Description && x.Name == c.tool.Name })
					rep, err := reg.Sync(ctx, "srv", list)
					require.Error(t, err)
					assert.ErrorIs(t, err, db.ErrInvalid)
					var te *gateway.ToolError
					require.ErrorAs(t, err, &te)
					assert.Equal(t, c.field, te.Field)
					assert.Equal(t, idx, te.Index)
					assert.Equal(t, c.tool.Name, te.Tool)
					assert.Equal(t, "srv", te.Server)
					assert.Contains(t, err.Error(), c.field)
					assert.Equal(t, gateway.SyncReport{}, rep)
					assert.Equal(t, before, rows(t, s, "srv"), "nothing written")
				}
			})
		}
		all, err := s.Tools().List(ctx, db.ToolQuery{})
		require.NoError(t, err)
		assert.Len(t, all, 2, "no other server got anything either")

		// The bounds themselves are accepted.
		longest := strings.Repeat("x", gateway.MaxToolNameLen)
		rep, err := reg.Sync(ctx, "srv", []gateway.Tool{mcpTool(longest, "l"), mcpTool("A-z_0.9", "c")})
		require.NoError(t, err)
		assert.Equal(t, []string{"A-z_0.9", longest}, rep.Added)
	})
}

func TestRegistrySyncRefusesDuplicates(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		_, err := reg.Sync(ctx, "srv", []gateway.Tool{mcpTool("a", "a")})
		require.NoError(t, err)
		before := rows(t, s, "srv")

		_, err = reg.Sync(ctx, "srv", []gateway.Tool{mcpTool("b", "1"), mcpTool("a", "changed"), mcpTool("b", "2")})
		assert.ErrorIs(t, err, db.ErrInvalid)
		var te *gateway.ToolError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "name", te.Field)
		assert.Equal(t, "b", te.Tool)
		assert.Equal(t, 2, te.Index)
		assert.Equal(t, before, rows(t, s, "srv"), "nothing written")

		// Names are case-sensitive: these are two tools.
		rep, err := reg.Sync(ctx, "srv", []gateway.Tool{mcpTool("a", "a"), mcpTool("A", "A")})
		require.NoError(t, err)
		assert.Equal(t, []string{"A"}, rep.Added)
	})
}

func TestRegistryServersKeptApart(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		_, err := reg.Sync(ctx, "github", []gateway.Tool{mcpTool("search", "searches code"), mcpTool("issues", "i")})
		require.NoError(t, err)
		_, err = reg.Sync(ctx, "team/web", []gateway.Tool{mcpTool("search", "searches the web")})
		require.NoError(t, err)
		other := rows(t, s, "team/web")
		letClockMove()

		gh, err := reg.Get(ctx, "github", "search")
		require.NoError(t, err)
		web, err := reg.Get(ctx, "team/web", "search")
		require.NoError(t, err)
		assert.NotEqual(t, gh.ID, web.ID)
		assert.Equal(t, "searches code", gh.Description)
		assert.Equal(t, "searches the web", web.Description)

		byQ, err := reg.GetQualified(ctx, "team/web/search")
		require.NoError(t, err)
		assert.Equal(t, web, byQ)
		_, err = reg.GetQualified(ctx, "team/search")
		assert.ErrorIs(t, err, db.ErrNotFound)

		all, err := reg.All(ctx)
		require.NoError(t, err)
		var qs []string
		for _, tool := range all {
			qs = append(qs, tool.QualifiedName)
			got, err := reg.GetQualified(ctx, tool.QualifiedName)
			require.NoError(t, err)
			assert.Equal(t, tool, got)
		}
		assert.Equal(t, []string{"github/issues", "github/search", "team/web/search"}, qs)

		// Syncs of one server, changing, removing and re-adding a name the
		// other server has too, never touch the other's rows.
		for _, list := range [][]gateway.Tool{
			{mcpTool("search", "changed")},
			nil,
			{mcpTool("search", "again"), mcpTool("issues", "i")},
		} {
			_, err := reg.Sync(ctx, "github", list)
			require.NoError(t, err)
			assert.Equal(t, other, rows(t, s, "team/web"))
		}

		page, err := reg.List(ctx, db.Page{Limit: 2})
		require.NoError(t, err)
		require.Len(t, page, 2)
		rest, err := reg.List(ctx, db.Page{Limit: 2, Offset: 2})
		require.NoError(t, err)
		require.Len(t, rest, 1)
		assert.Less(t, page[1].ID, rest[0].ID, "pages in registration order")
	})
}

// Tools of no server, written through the repository, are left out of the
// registry's lists without shortening a page: List once filtered them out
// after its LIMIT, so a page came back short while tools remained.
func TestRegistryListFullPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		for _, name := range []string{"a", "b", "c"} {
			_, err := s.Tools().Create(ctx, db.ToolCreate{Name: name, InputSchema: json.RawMessage(`{"type":"object"}`)})
			require.NoError(t, err)
		}
		_, err := reg.Sync(ctx, "srv", []gateway.Tool{mcpTool("x", ""), mcpTool("y", ""), mcpTool("z", "")})
		require.NoError(t, err)
		_, err = s.Tools().Create(ctx, db.ToolCreate{Name: "d", InputSchema: json.RawMessage(`{"type":"object"}`)})
		require.NoError(t, err)

		page, err := reg.List(ctx, db.Page{Limit: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{"x", "y"}, names(page), "a full page")
		rest, err := reg.List(ctx, db.Page{Limit: 2, Offset: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{"z"}, names(rest))
		all, err := reg.All(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"x", "y", "z"}, names(all))
	})
}

// Concurrent Syncs of one server, from two Stores on one database (two
// gateway replicas), rotating through three lists: every Sync succeeds, each
// reports what a Sync run after one whole list would, and the registry ends
// equal to one of the lists, never a mix.
func TestRegistryConcurrentSync(t *testing.T) {
	lists := [][]gateway.Tool{
		{fullTool("a"), mcpTool("b", "b1"), mcpTool("c", "c")},
		{mcpTool("b", "b2"), mcpTool("d", "d"), fullTool("e")},
		{mcpTool("f", "f"), mcpTool("c", "c"), mcpTool("g", "g")},
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			url := newURL(t, engine)
			regs := []*gateway.Registry{
				gateway.NewRegistry(openURL(t, url), gateway.RegistryOptions{}),
				gateway.NewRegistry(openURL(t, url), gateway.RegistryOptions{}),
			}
			ctx := t.Context()
			const workers, rounds = 8, 4
			var wg sync.WaitGroup
			errs := make(chan error, workers*rounds)
			for w := range workers {
				wg.Go(func() {
					for r := range rounds {
						list := lists[(w+r)%len(lists)]
						rep, err := regs[w%2].Sync(ctx, "srv", list)
						if err != nil {
							errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
						} else if !serialReport(rep, list, lists) {
							errs <- fmt.Errorf("worker %d round %d: %+v is not the report of a Sync after nothing or a whole list", w, r, rep)
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}

			got, err := regs[0].Tools(ctx, "srv")
			require.NoError(t, err)
			match := -1
			for i, list := range lists {
				if equalDefinitions(t, list, got) {
					match = i
				}
			}
			require.NotEqual(t, -1, match, "the registry is one of the lists, got %v", names(got))
			// Whichever list won, one more Sync of it changes nothing.
			rep, err := regs[1].Sync(ctx, "srv", lists[match])
			require.NoError(t, err)
			assert.False(t, rep.Changed())
			all, err := regs[0].All(ctx)
			require.NoError(t, err)
			assert.Len(t, all, len(lists[match]))
		})
	}
}

// serialReport reports whether rep is what a Sync of list reports when the
// registry held nothing or exactly one of lists before it: what Syncs that
// run one after another report. Interleaved Syncs report a mix. The tools
// of the lists differ by name or description.
func serialReport(rep gateway.SyncReport, list []gateway.Tool, lists [][]gateway.Tool) bool {
	sorted := func(ss []string) []string {
		ss = slices.Clone(ss)
		slices.Sort(ss)
		return ss
	}
	written := sorted(slices.Concat(rep.Added, rep.Updated))
	for _, prev := range append([][]gateway.Tool{nil}, lists...) {
		had := map[string]string{}
		for _, t := range prev {
			had[t.Name] = t.Description
		}
		var unchanged, changed, removed []string
		for _, t := range list {
			if d, ok := had[t.Name]; ok && d == t.Description {
				unchanged = append(unchanged, t.Name)
			} else {
				changed = append(changed, t.Name)
			}
			delete(had, t.Name)
		}
		for name := range had {
			removed = append(removed, name)
		}
		if slices.Equal(rep.Unchanged, sorted(unchanged)) && slices.Equal(written, sorted(changed)) &&
			slices.Equal(rep.Removed, sorted(removed)) {
			return true
		}
	}
	return false
}

// equalDefinitions reports whether got holds exactly the tools of want.
func equalDefinitions(t *testing.T, want []gateway.Tool, got []gateway.RegisteredTool) bool {
	t.Helper()
	if len(want) != len(got) {
		return false
	}
	sorted := slices.Clone(want)
	slices.SortFunc(sorted, func(a, b gateway.Tool) int { return strings.Compare(a.Name, b.Name) })
	for i, w := range sorted {
		g := got[i].Tool
		if w.Name != g.Name || w.Title != g.Title || w.Description != g.Description ||
			!jsonEqual(t, w.InputSchema, g.InputSchema) || !jsonEqual(t, w.OutputSchema, g.OutputSchema) ||
			!jsonEqual(t, w.Annotations, g.Annotations) || !jsonEqual(t, w.Meta, g.Meta) {
			return false
		}
	}
	return true
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ca, err := db.CanonicalJSON(a)
	require.NoError(t, err)
	cb, err := db.CanonicalJSON(b)
	require.NoError(t, err)
	return string(ca) == string(cb)
}

func TestRegistryLookupErrors(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		_, err := reg.Get(ctx, "srv", "missing")
		assert.ErrorIs(t, err, db.ErrNotFound)
		_, err = reg.Get(ctx, "srv", "bad name")
		assert.ErrorIs(t, err, db.ErrInvalid)
		_, err = reg.GetQualified(ctx, "no-separator")
		assert.ErrorIs(t, err, db.ErrInvalid)
		_, err = reg.Tools(ctx, "")
		assert.ErrorIs(t, err, db.ErrInvalid)
		_, err = reg.Sync(ctx, "", []gateway.Tool{mcpTool("a", "a")})
		assert.ErrorIs(t, err, db.ErrInvalid, "the registry keeps tools per server: a server id is required")
		_, err = reg.List(ctx, db.Page{Limit: -1})
		assert.ErrorIs(t, err, db.ErrInvalid)

		small := gateway.NewRegistry(s, gateway.RegistryOptions{MaxTools: 2})
		_, err = small.Sync(ctx, "srv", []gateway.Tool{mcpTool("a", ""), mcpTool("b", ""), mcpTool("c", "")})
		assert.ErrorIs(t, err, db.ErrInvalid)
		n, err := s.Tools().List(ctx, db.ToolQuery{})
		require.NoError(t, err)
		assert.Empty(t, n)

		canceled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = reg.Sync(canceled, "srv", []gateway.Tool{mcpTool("a", "a")})
		assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	})
}

// BenchmarkRegistrySyncUnchanged measures the common case, a server
// reconnecting with the tools it had: Sync reads and compares, and writes
// nothing. The baseline, interleaved in the same run, writes the same list
// the simple way: an Upsert per tool in one transaction. sync/upsert below 1
// means reading and comparing beats rewriting.
func BenchmarkRegistrySyncUnchanged(b *testing.B) {
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			s := newStore(b, engine)
			reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
			tools := make([]gateway.Tool, 50)
			for i := range tools {
				tools[i] = fullTool(fmt.Sprintf("tool_%02d", i))
			}
			if _, err := reg.Sync(ctx, "srv", tools); err != nil {
				b.Fatal(err)
			}
			upsertAll := func() error {
				return s.InTx(ctx, func(tx db.Repositories) error {
					for _, t := range tools {
						_, err := tx.Tools().Upsert(ctx, db.ToolCreate{
							ServerID: "srv", Name: t.Name, Title: t.Title, Description: t.Description,
							InputSchema: t.InputSchema, OutputSchema: t.OutputSchema,
							Annotations: t.Annotations, Metadata: t.Meta,
						})
						if err != nil {
							return err
						}
					}
					return nil
				})
			}
			var syncT, upsertT time.Duration
			n := 0
			for b.Loop() {
				start := time.Now()
				rep, err := reg.Sync(ctx, "srv", tools)
				if err != nil || rep.Changed() {
					b.Fatal(err, rep)
				}
				syncT += time.Since(start)
				start = time.Now()
				if err := upsertAll(); err != nil {
					b.Fatal(err)
				}
				upsertT += time.Since(start)
				n++
			}
			b.ReportMetric(float64(syncT.Nanoseconds())/float64(n), "sync-ns/op")
			b.ReportMetric(float64(upsertT.Nanoseconds())/float64(n), "upsert-ns/op")
			b.ReportMetric(float64(syncT)/float64(upsertT), "sync/upsert")
		})
	}
}
