package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/console"
	"github.com/sangkien/sangkien/integrations/intake"
)

// The operator commands (intake, staff, broadcast) parse their own arguments in their
// packages; these open what each needs in the gateway's Redis, once the arguments are
// good.

// openOutbox opens the outbox for `sangkien intake`.
func openOutbox(env func(string) string, stderr io.Writer) func() (intake.OutboxAdmin, func(), error) {
	return func() (intake.OutboxAdmin, func(), error) {
		_, store, closeStore, err := adminStore(env, stderr, "the outbox lives")
		return store, closeStore, err
	}
}

// openBroadcasts opens the broadcasts for `sangkien broadcast`.
func openBroadcasts(env func(string) string, stderr io.Writer) func() (broadcast.AdminStore, func(), error) {
	return func() (broadcast.AdminStore, func(), error) {
		_, store, closeStore, err := adminStore(env, stderr, "broadcasts live")
		return store, closeStore, err
	}
}

// openStaff opens the staff accounts and the audit trail for `sangkien staff`. The
// trail is trimmed by age as it is written, so it keeps CONSOLE_AUDIT_RETENTION as
// serve does: the command must not trim it shorter.
func openStaff(env func(string) string, stderr io.Writer) func() (console.StaffChanges, func(), error) {
	return func() (console.StaffChanges, func(), error) {
		cfg, store, closeStore, err := adminStore(env, stderr, "staff accounts live")
		if err != nil {
			return console.StaffChanges{}, nil, err
		}
		accounts := console.Accounts{Store: store.Staff(redisstore.StaffOptions{}), Cost: staffBcryptCost, Zone: bot.HoChiMinh()}
		audit := store.Audit(redisstore.AuditOptions{Retention: cfg.Console.AuditRetention})
		return console.StaffChanges{Accounts: accounts, Audit: audit}, closeStore, nil
	}
}

// staffBcryptCost is the cost of staff passwords' hashes; tests lower it.
var staffBcryptCost = 12

// adminStore opens the gateway's Redis for an operator command, as serve configures it;
// what names what the command needs there, for the error.
func adminStore(env func(string) string, stderr io.Writer, what string) (config, *redisstore.Store, func(), error) {
	cfg, err := loadConfig(env)
	if err != nil {
		return cfg, nil, nil, err
	}
	if cfg.RedisURL == "" {
		return cfg, nil, nil, fmt.Errorf("REDIS_URL: required: %s in the gateway's Redis", what)
	}
	conn, err := redisstore.Open(cfg.RedisURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return cfg, nil, nil, err
	}
	store := redisstore.New(conn.Client, redisstore.Options{Prefix: cfg.RedisPrefix, Logger: newLogger(stderr, cfg.LogLevel)})
	return cfg, store, func() { _ = conn.Close() }, nil
}
