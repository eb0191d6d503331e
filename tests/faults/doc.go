// Package faults holds the tests that prove mcpstore survives faults and
// hostile input: bad input at every public entry point, several replica
// processes starting and working at once, and a PostgreSQL server stopped
// and restarted under load. It has no code of its own and stays out of the
// library's import graph; `make test` runs its tests in short form and
// `make test-faults` in full.
package faults
