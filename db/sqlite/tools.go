package sqlite

import (
	"context"
	"database/sql"
)

// lockServer needs no statement inside a transaction on SQLite: a
// transaction takes the database's one write lock when it begins (BEGIN
// IMMEDIATE), across processes too, so transactions that write run one
// after another already. Outside one it waits for that lock as such a
// transaction would, by taking it and letting it go.
func (c conns) lockServer(ctx context.Context, _ string) error {
	if c.tx != nil {
		return ctx.Err()
	}
	return inTx(ctx, c.begin, func(*sql.Tx) error { return nil })
}
