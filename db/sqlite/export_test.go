package sqlite

// UpdateLastUsedBatchSQL is the batched last-use write, for its plan's test.
const UpdateLastUsedBatchSQL = updateLastUsedBatch
