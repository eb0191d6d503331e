package sqlcrepo

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/mcpstore/mcpstore/db"
)

// AuditRow is a row of audit_logs.
type AuditRow[T Time, J JSON] = struct {
	ID              int64
	EventID         uuid.UUID
	RequestID       string
	TraceID         *string
	UserID          *string
	ApiKeyID        *string
	ClientIp        *string
	Action          string
	ResourceType    string
	ResourceID      *string
	RequestData     J
	ResponseData    J
	Status          string
	ErrorMessage    *string
	DurationMs      *float64
	CreatedAt       T
	ClientRequestID *string
}

// listFunc is the shape of the generated lists of events by time:
// the window [from, to), the cursor and the action.
type listFunc[R any, T Time] func(ctx context.Context, from, to, afterTime T, afterID int64, action *string, off, lim int64) ([]*R, error)

// AuditQueries are the audit_logs queries both engines generate.
type AuditQueries[R ~AuditRow[T, J], T Time, J JSON] interface {
	AuditLogInsert(ctx context.Context, eventID uuid.UUID, requestID string, clientRequestID, traceID, userID, apiKeyID, clientIP *string,
		action, resourceType string, resourceID *string, requestData, responseData J, status string,
		errorMessage *string, durationMS *float64, createdAt T) (*R, error)
	AuditLogGetByID(ctx context.Context, id int64) (*R, error)
	AuditLogList(ctx context.Context, from, to, afterTime T, afterID int64, action *string, off, lim int64) ([]*R, error)
	AuditLogListDesc(ctx context.Context, from, to, afterTime T, afterID int64, action *string, off, lim int64) ([]*R, error)
	AuditLogListByUser(ctx context.Context, userID string, from, to, afterTime T, afterID int64, action *string, off, lim int64) ([]*R, error)
	AuditLogListByUserDesc(ctx context.Context, userID string, from, to, afterTime T, afterID int64, action *string, off, lim int64) ([]*R, error)
	AuditLogListByRequest(ctx context.Context, requestID string, from, to, afterTime T, afterID int64, action *string, off, lim int64) ([]*R, error)
	AuditLogListByRequestDesc(ctx context.Context, requestID string, from, to, afterTime T, afterID int64, action *string, off, lim int64) ([]*R, error)
	AuditLogListByClientRequest(ctx context.Context, clientRequestID string, from, to, afterTime T, afterID int64, action *string, off, lim int64) ([]*R, error)
	AuditLogListByClientRequestDesc(ctx context.Context, clientRequestID string, from, to, afterTime T, afterID int64, action *string, off, lim int64) ([]*R, error)
	AuditLogListNewest(ctx context.Context, off, lim int64) ([]*R, error)
	AuditLogListAfterID(ctx context.Context, afterID, off, lim int64) ([]*R, error)
	AuditLogComplete(ctx context.Context, status string, responseData J, errorMessage *string, durationMS *float64, id int64) (*R, error)
	AuditLogDelete(ctx context.Context, id int64) (int64, error)
	AuditLogPrune(ctx context.Context, before T, lim int64) (int64, error)
}

// Audit is a db.AuditLogEngine. Reads run on Read, writes on Write.
type Audit[R ~AuditRow[T, J], T Time, J JSON] struct {
	Read, Write AuditQueries[R, T, J]
	// Batch and Stats are InsertBatch and Statistics, which each engine
	// does its own way.
	Batch func(ctx context.Context, rows []db.AuditLogCreate) (int64, error)
	Stats func(ctx context.Context, from, to time.Time) (db.AuditStatistics, error)
}

func eventOf[R ~AuditRow[T, J], T Time, J JSON](r *R) db.AuditLog {
	e := AuditRow[T, J](*r)
	return db.AuditLog{
		ID:              e.ID,
		EventID:         e.EventID,
		RequestID:       e.RequestID,
		ClientRequestID: str(e.ClientRequestID),
		TraceID:         str(e.TraceID),
		UserID:          str(e.UserID),
		APIKeyID:        str(e.ApiKeyID),
		ClientIP:        str(e.ClientIp),
		Action:          e.Action,
		ResourceType:    e.ResourceType,
		ResourceID:      str(e.ResourceID),
		RequestData:     jsonOf(e.RequestData),
		ResponseData:    jsonOf(e.ResponseData),
		Status:          e.Status,
		ErrorMessage:    str(e.ErrorMessage),
		DurationMS:      e.DurationMs,
		CreatedAt:       timeOf(e.CreatedAt),
	}
}

func event[R ~AuditRow[T, J], T Time, J JSON](r *R, err error) (db.AuditLog, error) {
	if err != nil {
		return db.AuditLog{}, err
	}
	return eventOf(r), nil
}

func (r Audit[R, T, J]) Insert(ctx context.Context, in db.AuditLogCreate) (db.AuditLog, error) {
	return event(r.Write.AuditLogInsert(ctx, in.EventID, in.RequestID, nullStr(in.ClientRequestID), nullStr(in.TraceID), nullStr(in.UserID),
		nullStr(in.APIKeyID), nullStr(in.ClientIP), in.Action, in.ResourceType, nullStr(in.ResourceID),
		J(in.RequestData), J(in.ResponseData), in.Status, nullStr(in.ErrorMessage), in.DurationMS, T(in.CreatedAt)))
}

func (r Audit[R, T, J]) Get(ctx context.Context, id int64) (db.AuditLog, error) {
	return event(r.Read.AuditLogGetByID(ctx, id))
}

// List reads by the index of what q selects: the request's, the client
// request's, the user's, or the window's.
func (r Audit[R, T, J]) List(ctx context.Context, q db.AuditQuery) ([]db.AuditLog, error) {
	var list listFunc[R, T]
	switch {
	case q.RequestID != "":
		list = func(ctx context.Context, from, to, at T, id int64, act *string, off, lim int64) ([]*R, error) {
			if q.Newest {
				return r.Read.AuditLogListByRequestDesc(ctx, q.RequestID, from, to, at, id, act, off, lim)
			}
			return r.Read.AuditLogListByRequest(ctx, q.RequestID, from, to, at, id, act, off, lim)
		}
	case q.ClientRequestID != "":
		list = func(ctx context.Context, from, to, at T, id int64, act *string, off, lim int64) ([]*R, error) {
			if q.Newest {
				return r.Read.AuditLogListByClientRequestDesc(ctx, q.ClientRequestID, from, to, at, id, act, off, lim)
			}
			return r.Read.AuditLogListByClientRequest(ctx, q.ClientRequestID, from, to, at, id, act, off, lim)
		}
	case q.UserID != "":
		list = func(ctx context.Context, from, to, at T, id int64, act *string, off, lim int64) ([]*R, error) {
			if q.Newest {
				return r.Read.AuditLogListByUserDesc(ctx, q.UserID, from, to, at, id, act, off, lim)
			}
			return r.Read.AuditLogListByUser(ctx, q.UserID, from, to, at, id, act, off, lim)
		}
	case q.Newest:
		list = r.Read.AuditLogListDesc
	default:
		list = r.Read.AuditLogList
	}
	rows, err := list(ctx, T(q.From), T(q.To), T(q.After.CreatedAt), q.After.ID, nullStr(q.Action), int64(q.Offset), int64(q.Limit))
	return mapRows(rows, err, eventOf[R])
}

func (r Audit[R, T, J]) ListNewest(ctx context.Context, p db.Page) ([]db.AuditLog, error) {
	rows, err := r.Read.AuditLogListNewest(ctx, int64(p.Offset), int64(p.Limit))
	return mapRows(rows, err, eventOf[R])
}

func (r Audit[R, T, J]) ListAfterID(ctx context.Context, afterID int64, p db.Page) ([]db.AuditLog, error) {
	rows, err := r.Read.AuditLogListAfterID(ctx, afterID, int64(p.Offset), int64(p.Limit))
	return mapRows(rows, err, eventOf[R])
}

func (r Audit[R, T, J]) Complete(ctx context.Context, id int64, c db.AuditLogComplete) (db.AuditLog, error) {
	return event(r.Write.AuditLogComplete(ctx, c.Status, J(c.ResponseData), nullStr(c.ErrorMessage), c.DurationMS, id))
}

func (r Audit[R, T, J]) Delete(ctx context.Context, id int64) (int64, error) {
	return r.Write.AuditLogDelete(ctx, id)
}

func (r Audit[R, T, J]) PruneBatch(ctx context.Context, before time.Time, limit int) (int64, error) {
	return r.Write.AuditLogPrune(ctx, T(before), int64(limit))
}

func (r Audit[R, T, J]) InsertBatch(ctx context.Context, rows []db.AuditLogCreate) (int64, error) {
	return r.Batch(ctx, rows)
}

func (r Audit[R, T, J]) Statistics(ctx context.Context, from, to time.Time) (db.AuditStatistics, error) {
	return r.Stats(ctx, from, to)
}
