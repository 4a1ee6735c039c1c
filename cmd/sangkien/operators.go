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
	"github.com/sangkien/sangkien/logging"
)

// The operator commands (intake, staff, broadcast) read their own arguments in their
// packages, and open what they need in the gateway's Redis only once those are good:
// adminStore is how they open it.

// adminStore opens the gateway's Redis for an operator command, as serve configures
// it, and gives the command what build makes of it; what names what the command needs
// there, for the error.
func adminStore[T any](env func(string) string, stderr io.Writer, what string, build func(config, *redisstore.Store) T) func() (T, func(), error) {
	return func() (T, func(), error) {
		var none T
		cfg, err := loadConfig(env)
		if err != nil {
			return none, nil, err
		}
		if cfg.RedisURL == "" {
			return none, nil, fmt.Errorf("REDIS_URL: required: %s in the gateway's Redis", what)
		}
		conn, err := redisstore.Open(cfg.RedisURL, slog.New(slog.DiscardHandler))
		if err != nil {
			return none, nil, err
		}
		store := redisstore.New(conn.Client, redisstore.Options{Prefix: cfg.RedisPrefix, Logger: cfg.Log.New(stderr, logging.Text), LegacyFormat: cfg.Redis.LegacyFormat})
		return build(cfg, store), func() { _ = conn.Close() }, nil
	}
}

// outboxAdmin is the outbox, for `sangkien intake`.
func outboxAdmin(_ config, s *redisstore.Store) intake.OutboxAdmin { return s }

// broadcasts are the broadcasts and their audiences, for `sangkien broadcast`.
func broadcasts(_ config, s *redisstore.Store) broadcast.AdminStore { return s }

// staffChanges are the staff accounts and the audit trail for `sangkien staff`. The
// trail is trimmed by age as it is written, so it keeps CONSOLE_AUDIT_RETENTION as
// serve does: the command must not trim it shorter.
func staffChanges(cfg config, s *redisstore.Store) console.StaffChanges {
	return console.StaffChanges{
		Accounts: console.Accounts{Store: s.Staff(redisstore.StaffOptions{}), Cost: staffBcryptCost, Zone: bot.HoChiMinh()},
		Audit:    s.Audit(redisstore.AuditOptions{Retention: cfg.Console.AuditRetention}),
	}
}

// staffBcryptCost is the cost of staff passwords' hashes; tests lower it.
var staffBcryptCost = 12
