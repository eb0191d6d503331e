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
// each after the last row of the one before, until a page comes back
// shorter than the page size. A refused query is yielded alone, as is the
// first error of a read, which ends it. Each range over the result starts
// from q again.
func all[Q, T any, P listQuery[Q, T]](ctx context.Context, e Engine, op string, q Q, read func(context.Context, Q) ([]T, error)) iter.Seq2[T, error] {
	q, err := P(&q).check()
	err = mapError(op, e, err)
	return func(yield func(T, error) bool) {
		var zero T
		if err != nil {
			yield(zero, err)
			return
		}
		q := q
		for {
			page, err := read(ctx, q)
			if err != nil {
				yield(zero, mapError(op, e, err))
				return
			}
			for _, row := range page {
				if !yield(row, nil) {
					return
				}
			}
			if len(page) < P(&q).pageSize() {
				return
			}
			P(&q).next(page[len(page)-1])
		}
	}
}
