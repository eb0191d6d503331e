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
// or JSON with --json. An error is one line on stderr and a non-zero exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"text/tabwriter"

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
}

// command is one subcommand: its usage line and what it runs.
type command struct {
	usage string
	run   func(e *env, args []string) error
}

var commands = map[string]command{}

func register(name, usage string, run func(e *env, args []string) error) {
	commands[name] = command{usage: usage, run: run}
}

// usageError marks an error in the command line: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// exitError carries a chosen exit code with no message (keys verify's "no").
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("mcpstore", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.globalFlags(fs)
	if err := fs.Parse(args); err != nil {
		return fail(e, usagef("%v", err))
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		printUsage(stdout)
		return exitOK
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		return fail(e, usagef("unknown command %q (run 'mcpstore help')", rest[0]))
	}
	defer func() {
		if e.store != nil {
			e.store.Close()
		}
	}()
	return fail(e, cmd.run(e, rest[1:]))
}

// globalFlags adds --db and --json; every subcommand accepts them too, so
// they may stand before or after the command.
func (e *env) globalFlags(fs *flag.FlagSet) {
	def := os.Getenv("MCPSTORE_DATABASE_URL")
	if def == "" {
		def = "sqlite:mcpstore.db"
	}
	if e.dbURL != "" {
		def = e.dbURL
	}
	fs.StringVar(&e.dbURL, "db", def, "database URL: postgres://... or sqlite:PATH (env MCPSTORE_DATABASE_URL)")
	fs.BoolVar(&e.json, "json", e.json, "print JSON")
}

// flags returns a FlagSet for a subcommand, with the global flags.
func (e *env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.globalFlags(fs)
	return fs
}

// parse parses a subcommand's flags, allowing flags after positional
// arguments ("keys show ID --json"), and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// open opens (once) the database the flags name.
func (e *env) open() (db.Store, error) {
	if e.store != nil {
		return e.store, nil
	}
	s, err := dbopen.Open(e.ctx, e.dbURL, dbopen.Options{})
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
		return exitUsage
	}
	return exitFail
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: mcpstore [--db URL] [--json] COMMAND [ARGS]")
	fmt.Fprintln(w, "\nThe database is --db, or MCPSTORE_DATABASE_URL, or sqlite:mcpstore.db.\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sortStrings(names)
	// A usage line is "SYNOPSIS  DESCRIPTION": align the descriptions.
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, n := range names {
		synopsis, desc := commands[n].usage, ""
		if loc := twoSpaces.FindStringIndex(synopsis); loc != nil {
			synopsis, desc = synopsis[:loc[0]], synopsis[loc[1]:]
		}
		fmt.Fprintf(tw, "  %s\t%s\n", synopsis, desc)
	}
	tw.Flush()
}

var twoSpaces = regexp.MustCompile(`\s{2,}`)
