package main

import (
	"flag"
	"fmt"
	"strconv"
)

func init() {
	register(command{path: "migrate", summary: "apply, roll back or list the schema's migrations",
		example: "mcpstore migrate status\nmcpstore migrate up --db postgres://gw@db.internal/mcp"})
	for _, dir := range []struct{ name, summary, help string }{
		{"up", "apply every pending migration", "Apply every pending migration. Replicas that start together may all run it:\nPostgreSQL migrates once (an advisory lock), SQLite under a file lock."},
		{"down", "roll back the newest applied migration", ""},
	} {
		register(command{path: "migrate " + dir.name, summary: dir.summary, help: dir.help,
			example: "mcpstore migrate " + dir.name,
			setup: func(*flag.FlagSet) action {
				return func(e *env, _ []string) error { return migrate(e, dir.name) }
			}})
	}
	register(command{path: "migrate status", summary: "list every migration, applied or pending",
		example: "mcpstore migrate status --json",
		setup:   func(*flag.FlagSet) action { return migrateStatus }})
}

func migrate(e *env, dir string) error {
	s, err := e.open()
	if err != nil {
		return err
	}
	if dir == "up" {
		err = s.MigrateUp(e.ctx)
	} else {
		err = s.MigrateDown(e.ctx)
	}
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, map[string]string{"migrate": dir, "status": "ok"})
	}
	_, err = fmt.Fprintf(e.stdout, "migrate %s: ok\n", dir)
	return err
}

func migrateStatus(e *env, _ []string) error {
	s, err := e.open()
	if err != nil {
		return err
	}
	st, err := s.MigrationStatus(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, mapSlice(st, migrationJSONOf))
	}
	rows := make([][]string, len(st))
	for i, m := range st {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		rows[i] = []string{strconv.FormatInt(m.Version, 10), m.Source, state, when(m.AppliedAt)}
	}
	return table(e.stdout, []string{"VERSION", "SOURCE", "STATE", "APPLIED AT"}, rows)
}
