package gateway

import (
	"cmp"
	"encoding/base64"
	"errors"
	"slices"
)

// ErrInvalidCursor is the error of DecodeCursor: the client sent a cursor
// that ListPage did not make.
var ErrInvalidCursor = errors.New("invalid cursor")

// A filtered list is paged over what the key sees, not over the server's
// own pages: filtering the server's page would return short pages, and
// the server's cursor names the last item of its unfiltered page, which
// the key may not see. So an adapter reads the server's whole list,
// and ListPage filters it, orders it by id and pages it again; its cursor
// is the id of the last item returned, which the key sees, in base64url.

// ListPage returns one page of a list filtered for a key with grants: the
// items of all (the server's whole list, id giving an item's id as
// Policy.Visible takes it) that the key sees, ordered by id, after the id
// after (decoded from the client's cursor by DecodeCursor; "" for the
// first page), at most pageSize of them (0: all), and the cursor of the
// next page ("" after the last). The page is never nil, so that it goes out
// as a JSON array. A key that may do everything gets the same paging, so
// that its cursors are of the same kind.
func ListPage[T any](p Policy, g *Grants, kind ListKind, all []T, id func(T) string, after string, pageSize int) (page []T, next string) {
	page = []T{}
	for _, it := range all {
		if i := id(it); i > after && p.Visible(g, kind, i) {
			page = append(page, it)
		}
	}
	slices.SortFunc(page, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	if pageSize > 0 && len(page) > pageSize {
		page = page[:pageSize]
		next = base64.RawURLEncoding.EncodeToString([]byte(id(page[len(page)-1])))
	}
	return page, next
}

// DecodeCursor returns the id a cursor of ListPage holds; "" for none. Any
// other cursor is ErrInvalidCursor.
func DecodeCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) == 0 {
		return "", ErrInvalidCursor
	}
	return string(b), nil
}
