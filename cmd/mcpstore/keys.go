package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

func init() {
	register(command{path: "keys", summary: "manage API keys",
		help: `Issue, list, show, revoke, rotate and verify API keys. A raw key is
printed once, when it is issued; the database keeps only its hash.
Durations: 90m, 12h, 7d, 1d12h.`,
		example: "mcpstore keys create --name ci --user alice --permission 'tools:call:search_*' --expires-in 30d"})
	register(command{path: "keys create", summary: "issue an API key; the raw key is printed this once",
		help: `Issue an API key and print it, this once: store it now. --name is
required; --role and --permission repeat. A permission is a pattern such as
tools:call:search_* (the README's "Permissions").`,
		example: "mcpstore keys create --name ci --user alice --permission 'tools:call:search_*' --expires-in 30d",
		setup:   keysCreate})
	register(command{path: "keys list", summary: "list keys, with their state",
		example: "mcpstore keys list --user alice --json", setup: keysList})
	register(command{path: "keys show", args: []string{"ID"}, summary: "show one key",
		example: "mcpstore keys show 0193b3c4-8f1e-7c2a-9d4b-5e6f7a8b9c0d", setup: keysShow})
	register(command{path: "keys revoke", args: []string{"ID"}, summary: "revoke a key: it stops working at once",
		example: "mcpstore keys revoke 0193b3c4-8f1e-7c2a-9d4b-5e6f7a8b9c0d --reason leaked", setup: keysRevoke})
	register(command{path: "keys rotate", args: []string{"ID"}, summary: "issue a key's successor; the old one works for --grace",
		help: `Issue a successor with the key's name, owner, roles and permissions,
and print it this once; the old key keeps working for --grace, then stops.`,
		example: "mcpstore keys rotate 0193b3c4-8f1e-7c2a-9d4b-5e6f7a8b9c0d --grace 1h", setup: keysRotate})
	register(command{path: "keys verify", summary: "check the key read from stdin: exit 0 when valid, 1 when not",
		help: `Read a key from stdin (never from the command line, where the shell's
history and the process list would keep it) and check it: exit 0 and the
key's principal when it is valid, 1 and "invalid API key" when not.`,
		example: `printf '%s' "$KEY" | mcpstore keys verify`, setup: keysVerify})
}

// maxKeyInput bounds what keys verify reads: a key is far shorter.
const maxKeyInput = 4096

// withKeys opens the database and runs fn with a gateway.Keys on it,
// closed (its last-use times written) before returning. The CLI runs one
// command: no cache, so no revocation listener either.
func withKeys(e *env, fn func(k *gateway.Keys) error) error {
	s, err := e.open()
	if err != nil {
		return err
	}
	k, err := gateway.NewKeys(e.ctx, s, gateway.KeysOptions{CacheSize: -1, UnknownSize: -1})
	if err != nil {
		return err
	}
	return errors.Join(fn(k), k.Close(e.ctx))
}

// keyView is a key as the CLI shows it: never its hash (KeyInfo has none),
// with its state worked out.
type keyView struct {
	gateway.KeyInfo
	State string
}

func viewOf(k gateway.KeyInfo, now time.Time) keyView {
	state := "active"
	switch {
	case !k.Active:
		state = "inactive"
	case !k.RevokedAt.IsZero() && !now.Before(k.RevokedAt):
		state = "revoked"
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		state = "expired"
	case !k.RevokedAt.IsZero():
		state = "rotating" // revoked from RevokedAt on: a rotation's grace period
	}
	return keyView{KeyInfo: k, State: state}
}

func printNewKey(e *env, raw string, info gateway.KeyInfo, replaces string) error {
	if e.json {
		return printJSON(e.stdout, newKeyJSON{Key: raw, keyJSON: keyJSONOf(viewOf(info, time.Now())), Replaces: replaces})
	}
	verb := "Created"
	if replaces != "" {
		verb = "Rotated " + replaces + " into"
	}
	_, err := fmt.Fprintf(e.stdout, "%s API key %s %q (prefix %s, expires %s).\nThe key is shown only this once; store it now:\n\n%s\n",
		verb, info.ID, info.Name, info.Prefix, never(info.ExpiresAt), raw)
	return err
}

func keysCreate(fs *flag.FlagSet) action {
	name := fs.String("name", "", "the key's `name` (required)")
	user := fs.String("user", "", "the `user` id owning the key")
	var roles, perms stringList
	fs.Var(&roles, "role", "a `role` (repeatable)")
	fs.Var(&perms, "permission", "a `permission` such as tools:call:search_* (repeatable)")
	var expires durationFlag
	fs.Var(&expires, "expires-in", "the key's lifetime, a `duration` such as 90d (default: it never expires)")
	return func(e *env, _ []string) error {
		switch {
		case *name == "":
			return usagef("keys create: --name is required")
		case expires.set && expires.d <= 0:
			return usagef("keys create: --expires-in must be positive")
		}
		opts := gateway.IssueOptions{Name: *name, Owner: *user, Roles: roles, Permissions: perms}
		if expires.set {
			opts.ExpiresAt = time.Now().Add(expires.d)
		}
		return withKeys(e, func(k *gateway.Keys) error {
			raw, info, err := k.Issue(e.ctx, opts)
			if err != nil {
				return err
			}
			return printNewKey(e, raw, info, "")
		})
	}
}

func keysList(fs *flag.FlagSet) action {
	user := fs.String("user", "", "only the keys of this `user`")
	return func(e *env, _ []string) error {
		userSet := given(fs)["user"]
		return withKeys(e, func(k *gateway.Keys) error {
			views := []keyView{}
			now := time.Now()
			for off := 0; ; off += db.MaxLimit {
				p := db.Page{Limit: db.MaxLimit, Offset: off}
				var page []gateway.KeyInfo
				var err error
				if userSet {
					page, err = k.ListByOwner(e.ctx, *user, false, p)
				} else {
					page, err = k.List(e.ctx, p)
				}
				if err != nil {
					return err
				}
				for _, info := range page {
					views = append(views, viewOf(info, now))
				}
				if len(page) < db.MaxLimit {
					break
				}
			}
			if e.json {
				return printJSON(e.stdout, mapSlice(views, keyJSONOf))
			}
			rows := make([][]string, len(views))
			for i, v := range views {
				rows[i] = []string{v.ID, v.Name, v.Prefix, orDash(v.Owner), v.State, list(v.Roles), list(v.Permissions),
					when(v.CreatedAt), when(v.ExpiresAt), when(v.LastUsedAt)}
			}
			return table(e.stdout, []string{"ID", "NAME", "PREFIX", "OWNER", "STATE", "ROLES", "PERMISSIONS", "CREATED", "EXPIRES", "LAST USED"}, rows)
		})
	}
}

func keysShow(*flag.FlagSet) action {
	return func(e *env, args []string) error {
		return withKeys(e, func(k *gateway.Keys) error {
			info, err := k.Get(e.ctx, args[0])
			if err != nil {
				return err
			}
			return printKey(e, viewOf(info, time.Now()))
		})
	}
}

func printKey(e *env, v keyView) error {
	if e.json {
		return printJSON(e.stdout, keyJSONOf(v))
	}
	meta := "-"
	if len(v.Metadata) > 0 {
		meta = string(v.Metadata)
	}
	rows := [][]string{
		{"ID:", v.ID}, {"Name:", v.Name}, {"Prefix:", v.Prefix}, {"Owner:", orDash(v.Owner)}, {"State:", v.State},
		{"Roles:", list(v.Roles)}, {"Permissions:", list(v.Permissions)},
		{"Created:", when(v.CreatedAt)}, {"Expires:", never(v.ExpiresAt)}, {"Last used:", when(v.LastUsedAt)},
		{"Revoked:", when(v.RevokedAt)}, {"Revoke reason:", orDash(v.RevokeReason)}, {"Metadata:", meta},
	}
	return lines(e.stdout, rows)
}

func keysRevoke(fs *flag.FlagSet) action {
	reason := fs.String("reason", "", "why the key is revoked (kept with it)")
	return func(e *env, args []string) error {
		id := args[0]
		return withKeys(e, func(k *gateway.Keys) error {
			if err := k.Revoke(e.ctx, id, *reason); err != nil {
				return err
			}
			info, err := k.Get(e.ctx, id)
			if err != nil {
				return err
			}
			v := viewOf(info, time.Now())
			if e.json {
				return printJSON(e.stdout, keyJSONOf(v))
			}
			_, err = fmt.Fprintf(e.stdout, "Revoked API key %s %q at %s.\n", v.ID, v.Name, when(v.RevokedAt))
			return err
		})
	}
}

func keysRotate(fs *flag.FlagSet) action {
	var grace durationFlag
	fs.Var(&grace, "grace", "how long the old key keeps working, a `duration` such as 1h (default: it stops now)")
	return func(e *env, args []string) error {
		if grace.d < 0 {
			return usagef("keys rotate: --grace must not be negative")
		}
		return withKeys(e, func(k *gateway.Keys) error {
			raw, info, err := k.Rotate(e.ctx, args[0], grace.d)
			if err != nil {
				return err
			}
			return printNewKey(e, raw, info, args[0])
		})
	}
}

func keysVerify(*flag.FlagSet) action {
	return func(e *env, _ []string) error {
		in, err := io.ReadAll(io.LimitReader(e.stdin, maxKeyInput))
		if err != nil {
			return fmt.Errorf("keys verify: read stdin: %w", err)
		}
		raw := strings.TrimSpace(string(in))
		return withKeys(e, func(k *gateway.Keys) error {
			p, err := k.Verify(e.ctx, raw)
			if errors.Is(err, gateway.ErrInvalidKey) {
				// Never the key, nor why it was refused: the answer a client gets.
				if e.json {
					if err := printJSON(e.stdout, verdictJSON{}); err != nil {
						return err
					}
				}
				fmt.Fprintln(e.stderr, "invalid API key")
				return exitError{exitFail}
			}
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, verdictJSON{Valid: true, Principal: principalJSONOf(p)})
			}
			return lines(e.stdout, [][]string{
				{"Valid:", "yes"}, {"Key ID:", p.KeyID}, {"Key name:", p.KeyName}, {"Owner:", orDash(p.Owner)},
				{"Roles:", list(p.Roles)}, {"Permissions:", list(p.Permissions)}, {"Expires:", never(p.ExpiresAt)},
			})
		})
	}
}
