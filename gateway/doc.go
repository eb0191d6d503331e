// Package gateway is what an MCP server or gateway needs on top of the
// stored rows, on either engine (any db.Store):
//
//   - Keys issues API keys and verifies them on every request, from a
//     bounded in-memory cache, without a database write per request;
//   - Registry keeps each server's tools in sync with what it offers;
//   - Auditor records every tool call without waiting for the database,
//     and without losing or doubling an event.
package gateway
