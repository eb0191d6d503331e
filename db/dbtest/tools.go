package dbtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

const schemaObj = `{"type":"object"}`

func newTool(server, name string) db.ToolCreate {
	return db.ToolCreate{ServerID: server, Name: name, Description: "does " + name, InputSchema: json.RawMessage(schemaObj)}
}

// waitTick lets the clock move past the coarsest time a database keeps for
// a default (SQLite's julianday('now') has millisecond precision).
func waitTick() { time.Sleep(3 * time.Millisecond) }

func exerciseTools(t *testing.T, e Engine) {
	t.Run("CreateGet", func(t *testing.T) {
		ctx, s := setup(t, e)
		in := db.ToolCreate{
			ServerID: "srv", Name: "search", Title: "Search", Description: "finds things",
			InputSchema:  json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`),
			OutputSchema: json.RawMessage(`{"type":"object"}`),
			Annotations:  json.RawMessage(`{"readOnlyHint":true}`),
			Metadata:     json.RawMessage(`{"v":2}`),
		}
		created, err := s.Tools().Create(ctx, in)
		require.NoError(t, err)
		assert.NotZero(t, created.ID)
		assert.Equal(t, "srv", created.ServerID)
		assert.Equal(t, "search", created.Name)
		assert.Equal(t, "Search", created.Title)
		assert.Equal(t, "finds things", created.Description)
		assert.Equal(t, `{"type":"object","properties":{"q":{"type":"string"}}}`, string(created.InputSchema))
		assert.Equal(t, `{"type":"object"}`, string(created.OutputSchema))
		assert.Equal(t, `{"readOnlyHint":true}`, string(created.Annotations))
		assert.Equal(t, `{"v":2}`, string(created.Metadata))
		assert.True(t, created.IsActive)
		assert.Equal(t, created.CreatedAt, created.UpdatedAt)

		got, err := s.Tools().Get(ctx, created.ID)
		require.NoError(t, err)
		assert.Equal(t, created, got)
		byName, err := s.Tools().GetByName(ctx, "srv", "search")
		require.NoError(t, err)
		assert.Equal(t, created, byName)
	})

	t.Run("NameUniquePerServer", func(t *testing.T) {
		ctx, s := setup(t, e)
		a, err := s.Tools().Create(ctx, newTool("a", "search"))
		require.NoError(t, err)
		b, err := s.Tools().Create(ctx, newTool("b", "search"))
		require.NoError(t, err, "another server may offer a tool of the same name")
		_, err = s.Tools().Create(ctx, newTool("a", "search"))
		assert.ErrorIs(t, err, db.ErrConflict)
		noServer, err := s.Tools().Create(ctx, newTool("", "search"))
		require.NoError(t, err)
		_, err = s.Tools().Create(ctx, newTool("", "search"))
		assert.ErrorIs(t, err, db.ErrConflict, "tools of no server are unique by name too")

		got, err := s.Tools().GetByName(ctx, "b", "search")
		require.NoError(t, err)
		assert.Equal(t, b.ID, got.ID)
		got, err = s.Tools().GetByName(ctx, "a", "search")
		require.NoError(t, err)
		assert.Equal(t, a.ID, got.ID)
		got, err = s.Tools().GetByName(ctx, "", "search")
		require.NoError(t, err)
		assert.Equal(t, noServer.ID, got.ID)
		_, err = s.Tools().GetByName(ctx, "c", "search")
		assert.ErrorIs(t, err, db.ErrNotFound)
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx, s := setup(t, e)
		_, err := s.Tools().Get(ctx, 12345)
		assert.ErrorIs(t, err, db.ErrNotFound)
		_, err = s.Tools().Update(ctx, 12345, db.ToolUpdate{Description: db.Set("x")})
		assert.ErrorIs(t, err, db.ErrNotFound)
		assert.ErrorIs(t, s.Tools().Delete(ctx, 12345), db.ErrNotFound)
	})

	t.Run("ListPaging", func(t *testing.T) {
		ctx, s := setup(t, e)
		var ids []int64
		for i := range 5 {
			tool, err := s.Tools().Create(ctx, newTool("srv", fmt.Sprintf("t%d", i)))
			require.NoError(t, err)
			ids = append(ids, tool.ID)
		}
		page, err := s.Tools().List(ctx, db.ToolQuery{Limit: 2, Offset: 1})
		require.NoError(t, err)
		require.Len(t, page, 2)
		assert.Equal(t, ids[1], page[0].ID)
		assert.Equal(t, ids[2], page[1].ID)
	})

	// All pages by id: every tool, each once, whatever the page size and
	// filters.
	t.Run("All", func(t *testing.T) {
		ctx, s := setup(t, e)
		var ids, active, withServer []int64
		for i := range 7 {
			in := newTool([]string{"srv", ""}[i%2], fmt.Sprintf("t%d", i))
			in.Inactive = i%3 == 0
			tool, err := s.Tools().Create(ctx, in)
			require.NoError(t, err)
			ids = append(ids, tool.ID)
			if !in.Inactive && in.ServerID != "" {
				active = append(active, tool.ID)
			}
			if in.ServerID != "" {
				withServer = append(withServer, tool.ID)
			}
		}
		toolIDs := func(q db.ToolQuery) []int64 {
			return idsOf(t, s.Tools().All(ctx, q), func(t db.Tool) int64 { return t.ID })
		}
		for _, limit := range []int{1, 3, 7, 0} {
			assert.Equal(t, ids, toolIDs(db.ToolQuery{Limit: limit}), "limit %d", limit)
			assert.Equal(t, active, toolIDs(db.ToolQuery{ActiveOnly: true, HasServer: true, Limit: limit}), "limit %d", limit)
			assert.Equal(t, withServer, toolIDs(db.ToolQuery{ServerID: "srv", Limit: limit}), "limit %d", limit)
		}
		assert.Equal(t, ids[2:], toolIDs(db.ToolQuery{Limit: 2, Offset: 2}), "an offset skips the first")
		assert.Equal(t, ids[4:], toolIDs(db.ToolQuery{AfterID: ids[3], Limit: 2}))
	})

	t.Run("FindByServer", func(t *testing.T) {
		ctx, s := setup(t, e)
		for _, n := range []string{"zeta", "alpha", "mid"} {
			_, err := s.Tools().Create(ctx, newTool("one", n))
			require.NoError(t, err)
		}
		_, err := s.Tools().Create(ctx, newTool("two", "other"))
		require.NoError(t, err)
		got, err := s.Tools().List(ctx, db.ToolQuery{ServerID: "one"})
		require.NoError(t, err)
		require.Len(t, got, 3)
		assert.Equal(t, []string{"zeta", "alpha", "mid"}, []string{got[0].Name, got[1].Name, got[2].Name}, "id order")
	})

	t.Run("FindActiveAndDeactivateByServer", func(t *testing.T) {
		ctx, s := setup(t, e)
		for i := range 3 {
			_, err := s.Tools().Create(ctx, newTool("one", fmt.Sprintf("t%d", i)))
			require.NoError(t, err)
		}
		keep, err := s.Tools().Create(ctx, newTool("two", "t"))
		require.NoError(t, err)
		n, err := s.Tools().DeactivateByServer(ctx, "one")
		require.NoError(t, err)
		assert.EqualValues(t, 3, n)
		n, err = s.Tools().DeactivateByServer(ctx, "one")
		require.NoError(t, err)
		assert.EqualValues(t, 0, n, "already inactive")
		active, err := s.Tools().List(ctx, db.ToolQuery{ActiveOnly: true})
		require.NoError(t, err)
		require.Len(t, active, 1)
		assert.Equal(t, keep.ID, active[0].ID)
		one, err := s.Tools().List(ctx, db.ToolQuery{ServerID: "one"})
		require.NoError(t, err)
		require.Len(t, one, 3)
		for _, tool := range one {
			assert.False(t, tool.IsActive)
		}
	})

	t.Run("Update", func(t *testing.T) {
		ctx, s := setup(t, e)
		tool, err := s.Tools().Create(ctx, newTool("srv", "t"))
		require.NoError(t, err)
		waitTick()
		same, err := s.Tools().Update(ctx, tool.ID, db.ToolUpdate{Description: db.Set(tool.Description)})
		require.NoError(t, err)
		assert.Equal(t, tool.UpdatedAt, same.UpdatedAt, "writing the same value keeps updated_at")

		waitTick()
		u, err := s.Tools().Update(ctx, tool.ID, db.ToolUpdate{
			Title:       db.Set("T"),
			Annotations: db.Set(json.RawMessage(`{"destructiveHint":false}`)),
		})
		require.NoError(t, err)
		assert.Equal(t, "T", u.Title)
		assert.Equal(t, `{"destructiveHint":false}`, string(u.Annotations))
		assert.Equal(t, tool.Description, u.Description)
		assert.True(t, u.UpdatedAt.After(tool.UpdatedAt), "a change moves updated_at")
		assert.Equal(t, tool.CreatedAt, u.CreatedAt)

		u2, err := s.Tools().Update(ctx, tool.ID, db.ToolUpdate{Title: db.Set(""), Annotations: db.Set[json.RawMessage](nil)})
		require.NoError(t, err)
		assert.Equal(t, "", u2.Title)
		assert.Nil(t, u2.Annotations)
		assert.EqualValues(t, 1, count(t, e, s, "tool_registrations", "title IS NULL AND annotations IS NULL"))
	})

	t.Run("Delete", func(t *testing.T) {
		ctx, s := setup(t, e)
		tool, err := s.Tools().Create(ctx, newTool("srv", "t"))
		require.NoError(t, err)
		require.NoError(t, s.Tools().Delete(ctx, tool.ID))
		_, err = s.Tools().Get(ctx, tool.ID)
		assert.ErrorIs(t, err, db.ErrNotFound)
	})

	t.Run("Upsert", func(t *testing.T) {
		ctx, s := setup(t, e)
		in := newTool("srv", "t")
		first, err := s.Tools().Upsert(ctx, in)
		require.NoError(t, err)
		waitTick()
		again, err := s.Tools().Upsert(ctx, in)
		require.NoError(t, err)
		assert.Equal(t, first, again, "an unchanged upsert changes nothing, updated_at included")

		waitTick()
		in.Description = "changed"
		in.Inactive = true
		changed, err := s.Tools().Upsert(ctx, in)
		require.NoError(t, err)
		assert.Equal(t, first.ID, changed.ID)
		assert.Equal(t, "changed", changed.Description)
		assert.False(t, changed.IsActive)
		assert.True(t, changed.UpdatedAt.After(first.UpdatedAt))
		assert.Equal(t, first.CreatedAt, changed.CreatedAt)
		assert.EqualValues(t, 1, count(t, e, s, "tool_registrations", ""))
	})

	// The seed's upsert read, then wrote: two callers could both insert.
	t.Run("ConcurrentUpsert", func(t *testing.T) {
		ctx, s := setup(t, e)
		const workers = 32
		var wg sync.WaitGroup
		errs := make([]error, workers)
		ids := make([]int64, workers)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := newTool("srv", "same")
				in.Description = fmt.Sprintf("writer %d", i)
				tool, err := s.Tools().Upsert(ctx, in)
				errs[i], ids[i] = err, tool.ID
			}()
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "writer %d", i)
			assert.Equal(t, ids[0], ids[i], "every writer saw the same row")
		}
		assert.EqualValues(t, 1, count(t, e, s, "tool_registrations", ""))
	})

	t.Run("Nulls", func(t *testing.T) {
		ctx, s := setup(t, e)
		tool, err := s.Tools().Create(ctx, newTool("", "t"))
		require.NoError(t, err)
		assert.Equal(t, "", tool.Title)
		assert.Nil(t, tool.OutputSchema)
		assert.Nil(t, tool.Annotations)
		assert.Nil(t, tool.Metadata)
		assert.EqualValues(t, 1, count(t, e, s, "tool_registrations",
			"title IS NULL AND output_schema IS NULL AND annotations IS NULL AND metadata IS NULL AND server_id = ''"))
	})

	// Read, then write from what was read: without the lock, two
	// transactions on PostgreSQL (read committed) would both read n and both
	// write n+1.
	t.Run("LockServer", func(t *testing.T) {
		ctx, s := setup(t, e)
		in := newTool("srv", "counter")
		in.Description = "0"
		tool, err := s.Tools().Create(ctx, in)
		require.NoError(t, err)
		require.NoError(t, s.Tools().LockServer(ctx, "srv"), "outside a transaction, with no holder, it returns")
		const workers = 16
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.InTx(ctx, func(tx db.Repositories) error {
					if err := tx.Tools().LockServer(ctx, "srv"); err != nil {
						return err
					}
					cur, err := tx.Tools().Get(ctx, tool.ID)
					if err != nil {
						return err
					}
					var n int
					if _, err := fmt.Sscan(cur.Description, &n); err != nil {
						return err
					}
					_, err = tx.Tools().Update(ctx, tool.ID, db.ToolUpdate{Description: db.Set(fmt.Sprint(n + 1))})
					return err
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "worker %d", i)
		}
		got, err := s.Tools().Get(ctx, tool.ID)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint(workers), got.Description, "no increment was lost")
		err = s.Tools().LockServer(ctx, strings.Repeat("x", db.MaxShortLen+1))
		var de *db.Error
		if assert.ErrorAs(t, err, &de) {
			assert.Equal(t, db.ErrInvalid, de.Kind)
			assert.Contains(t, de.Msg, "characters", "refused for its length")
		}
	})
}
