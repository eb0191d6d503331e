package db

import (
	"context"
	"iter"
)

// listQuery is a repository's query (KeyQuery, ToolQuery, AuditQuery)
// through a pointer: it checks itself, knows its page size, and moves past
// a page, given the page's last row.
type listQuery[Q, T any] interface {
	*Q
	check() (Q, error)
	pageSize() int
	next(last T)
}

// list is a repository's List: it checks q, then reads one page.
func list[Q, T any, P listQuery[Q, T]](ctx context.Context, e Engine, op string, q Q, read func(context.Context, Q) ([]T, error)) ([]T, error) {
	q, err := P(&q).check()
	if err == nil {
		var out []T
		if out, err = read(ctx, q); err == nil {
			return out, nil
		}
	}
	return nil, mapError(op, e, err)
}

// all is a repository's All: it checks q, then reads page after page,
// each after the last row of the one before.
func all[Q, T any, P listQuery[Q, T]](ctx context.Context, e Engine, op string, q Q, read func(context.Context, Q) ([]T, error)) iter.Seq2[T, error] {
	q, err := P(&q).check()
	return pages(ctx, mapError(op, e, err), P(&q).pageSize(), func(ctx context.Context) ([]T, error) {
		page, err := read(ctx, q)
		if n := len(page); n > 0 {
			P(&q).next(page[n-1])
		}
		return page, mapError(op, e, err)
	})
}

// pages is the iterator of a repository's All: it yields the rows of the
// pages next reads one after another (next moves its query past the page it
// returns), until a page comes back shorter than limit. A refused query
// (err) is yielded alone, as is the first error of next, which ends it.
func pages[T any](ctx context.Context, err error, limit int, next func(context.Context) ([]T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if err != nil {
			yield(zero, err)
			return
		}
		for {
			page, err := next(ctx)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, row := range page {
				if !yield(row, nil) {
					return
				}
			}
			if len(page) < limit {
				return
			}
		}
	}
}
