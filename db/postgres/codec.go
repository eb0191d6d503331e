package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// RegisterTypes makes conn read jsonb into a json.RawMessage by copying the
// server's text, where pgx's default codec runs json.Unmarshal on it: a
// second validation and an extra copy of every document read, for JSON
// the server has validated already. Every other target of a jsonb column
// decodes as before. Open calls it on each connection of its pool; a
// caller of New can do the same from its pool's AfterConnect.
func RegisterTypes(ctx context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterType(&pgtype.Type{
		Name:  "jsonb",
		OID:   pgtype.JSONBOID,
		Codec: &pgtype.JSONBCodec{Marshal: json.Marshal, Unmarshal: unmarshalJSON},
	})
	return nil
}

// unmarshalJSON is json.Unmarshal, but for a *json.RawMessage, which it
// fills with a copy of data as json.RawMessage.UnmarshalJSON would, without
// first checking that data is valid JSON (the server sent it as jsonb).
func unmarshalJSON(data []byte, v any) error {
	if p, ok := v.(*json.RawMessage); ok {
		*p = append(json.RawMessage(nil), data...)
		return nil
	}
	return json.Unmarshal(data, v)
}
