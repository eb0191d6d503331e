// Package readme holds the test that builds the Go snippets of the
// repository's README.md, so that what a new user copies from it compiles.
package readme
