package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// RegisterTypes makes conn read jsonb into a json.RawMessage by copying the
// server's text. pgx's default codec runs json.Unmarshal on it, behind a
// scan plan that uses reflection on every value: a second validation and
// an extra copy of every document read, for JSON the server has validated
// already. Every other target of a jsonb column decodes as before. Open
// calls it on each connection of its pool; a caller of New can do the same
// from its pool's AfterConnect.
func RegisterTypes(ctx context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterType(&pgtype.Type{
		Name:  "jsonb",
		OID:   pgtype.JSONBOID,
		Codec: &jsonbCodec{pgtype.JSONBCodec{Marshal: json.Marshal, Unmarshal: json.Unmarshal}},
	})
	return nil
}

// jsonbCodec is pgx's jsonb codec with a direct scan plan for
// *json.RawMessage, the type sqlc gives jsonb columns here.
type jsonbCodec struct {
	pgtype.JSONBCodec
}

func (c *jsonbCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*json.RawMessage); ok {
		return rawMessageScan{binary: format == pgtype.BinaryFormatCode}
	}
	return c.JSONBCodec.PlanScan(m, oid, format, target)
}

// rawMessageScan copies a jsonb value into a *json.RawMessage: NULL is nil,
// and the binary format's leading version byte (1) goes.
type rawMessageScan struct{ binary bool }

func (s rawMessageScan) Scan(src []byte, dst any) error {
	p := dst.(*json.RawMessage)
	if src == nil {
		*p = nil
		return nil
	}
	if s.binary {
		if len(src) == 0 || src[0] != 1 {
			return errors.New("jsonb: unknown binary format")
		}
		src = src[1:]
	}
	*p = append(json.RawMessage(nil), src...) // src is pgx's read buffer
	return nil
}
