package db

import (
	"context"
	"iter"
)

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
