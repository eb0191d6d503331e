package main

import (
	"fmt"
	"strconv"
)

func init() {
	register("migrate", "migrate up|down|status      apply, roll back one, or list migrations", migrate)
}

func migrate(e *env, args []string) error {
	pos, err := parse(e.flags("migrate"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: mcpstore migrate up|down|status")
	}
	s, err := e.open()
	if err != nil {
		return err
	}
	switch pos[0] {
	case "up", "down":
		if pos[0] == "up" {
			err = s.MigrateUp(e.ctx)
		} else {
			err = s.MigrateDown(e.ctx)
		}
		if err != nil {
			return err
		}
		if e.json {
			return printJSON(e.stdout, map[string]string{"migrate": pos[0], "status": "ok"})
		}
		_, err = fmt.Fprintf(e.stdout, "migrate %s: ok\n", pos[0])
		return err
	case "status":
		st, err := s.MigrationStatus(e.ctx)
		if err != nil {
			return err
		}
		if e.json {
			return printJSON(e.stdout, st)
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
	return usagef("usage: mcpstore migrate up|down|status")
}
