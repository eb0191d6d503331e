// Command mcpstore is the operators' tool for an mcpstore database: migrate
// it, list tools, create, list, revoke, rotate and verify API keys, and
// read, follow, summarise, prune and export the audit log, without writing
// Go. `mcpstore demo` runs the example MCP server end to end on a
// temporary database.
//
//	mcpstore [--db URL] [--json] COMMAND [ARGS]
//
// The database comes from --db or MCPSTORE_DATABASE_URL, default
// sqlite:mcpstore.db. Every command prints an aligned table or plain text,
// or JSON with --json (snake_case field names, stable). `mcpstore COMMAND
// -h` prints a command's usage, flags and an example; `mcpstore completion
// bash|zsh|fish` a shell's completion script. An error is one line on
// stderr and exit code 1; a bad command line, exit code 2 and the usage.
//
// Each command is declared once, with register (command.go).
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed, or its answer is "no"
	exitUsage = 2 // the command line was wrong
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env is what every command gets: its flags, its streams and the database.
type env struct {
	ctx    context.Context
	dbURL  string
	json   bool
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	store  db.Store
	cmd    *command // the command named so far: its usage follows a usage error
}

// exitError carries a chosen exit code with no message (keys verify's "no").
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	defer func() {
		if e.store != nil {
			e.store.Close()
		}
	}()
	err := dispatch(e, args)
	if h := (errHelp{}); errors.As(err, &h) {
		printHelp(stdout, e, h.cmd, true)
		return exitOK
	}
	return fail(e, err)
}

// globalFlags adds --db and --json; every command accepts them, so they
// may stand before or after the command's words.
func (e *env) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&e.dbURL, "db", e.dbURL, "")
	fs.BoolVar(&e.json, "json", e.json, "")
}

// open opens (once) the database the flags name.
func (e *env) open() (db.Store, error) {
	if e.store != nil {
		return e.store, nil
	}
	url := cmp.Or(e.dbURL, os.Getenv("MCPSTORE_DATABASE_URL"), "sqlite:mcpstore.db")
	s, err := dbopen.Open(e.ctx, url, dbopen.Options{})
	if err != nil {
		return nil, err
	}
	e.store = s
	return s, nil
}

func fail(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	var x exitError
	if errors.As(err, &x) {
		return x.code
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintln(e.stderr, "mcpstore: "+strings.TrimPrefix(msg, "mcpstore: "))
	var u usageError
	if errors.As(err, &u) {
		if c := cmp.Or(u.cmd, e.cmd); c != nil {
			fmt.Fprintln(e.stderr)
			printHelp(e.stderr, e, c, false)
		}
		return exitUsage
	}
	return exitFail
}
