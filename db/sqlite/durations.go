package sqlite

import (
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"modernc.org/sqlite"
)

// durationsFunc is the aggregate AuditLogStatistics reads the window's
// durations with: mcpstore_durations(x) is a blob of the non-NULL values
// of x as little-endian float64s, in no order. SQLite has no percentile
// function, and each way of ranking in SQL (a window function, a sort per
// percentile) or of handing the values over (a row each, or group_concat's
// text) costs several times this one pass.
const durationsFunc = "mcpstore_durations"

func init() {
	// The driver registers functions for the connections it opens later:
	// every connection of every Store. Its one likely error is a name
	// taken already, by another copy of this package linked into the same
	// program, whose function is this one: it is no reason to panic.
	_ = sqlite.RegisterFunction(durationsFunc, &sqlite.FunctionImpl{
		NArgs:         1,
		Deterministic: true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) {
			return &durationsAgg{buf: []byte{}}, nil
		},
	})
}

type durationsAgg struct{ buf []byte }

func (a *durationsAgg) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	var v float64
	switch x := args[0].(type) {
	case nil:
		return nil
	case float64:
		v = x
	case int64:
		v = float64(x)
	default:
		return fmt.Errorf("%s: not a number: %T", durationsFunc, x)
	}
	a.buf = binary.LittleEndian.AppendUint64(a.buf, math.Float64bits(v))
	return nil
}

func (a *durationsAgg) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return errors.New(durationsFunc + " is not a window function")
}

func (a *durationsAgg) WindowValue(*sqlite.FunctionContext) (driver.Value, error) { return a.buf, nil }

func (a *durationsAgg) Final(*sqlite.FunctionContext) {}

// appendDurations appends the values of a mcpstore_durations blob to ds.
func appendDurations(ds []float64, blob []byte) ([]float64, error) {
	if len(blob)%8 != 0 {
		return ds, fmt.Errorf("%s: a blob of %d bytes", durationsFunc, len(blob))
	}
	for i := 0; i < len(blob); i += 8 {
		ds = append(ds, math.Float64frombits(binary.LittleEndian.Uint64(blob[i:])))
	}
	return ds, nil
}
