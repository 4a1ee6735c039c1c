package broadcast

import (
	"fmt"
	"strings"

	"github.com/sangkien/sangkien/envvar"
)

// EnvVars are the broadcasts' variables, in the order help shows them.
var EnvVars = []envvar.Var{
	{Name: "BULK_QUIET_HOURS", Default: DefaultQuietHours, Help: "daily hours, Asia/Ho_Chi_Minh, when no bulk " +
		"message (broadcast, reminder) goes out on any channel, as HH:MM-HH:MM: what is queued waits for their end; " +
		"none: no quiet hours (Zalo refuses 22:00-06:00 anyway)"},
	{Name: "BROADCAST_REMINDERS", Default: "on", Help: "on: serve sends the programs' reminders (by default at opening, " +
		"a week and a day before the deadline; each program's own in the programs file); off: none (a staging gateway)"},
}

// Settings are what the gateway reads of the broadcasts from its environment.
type Settings struct {
	// Quiet is when no bulk message goes out on any channel (BULK_QUIET_HOURS).
	Quiet QuietHours
	// Reminders turns the programs' deadline reminders on (BROADCAST_REMINDERS).
	Reminders bool
}

// ReadSettings reads the variables of EnvVars; errors go to r. BULK_QUIET_HOURS=none
// turns the quiet hours off (empty is the default, as for every variable).
func ReadSettings(r *envvar.Reader) Settings {
	var s Settings
	if v := r.Get("BULK_QUIET_HOURS"); !strings.EqualFold(v, "none") {
		q, err := ParseQuietHours(v)
		if err != nil {
			r.Fail(fmt.Errorf("BULK_QUIET_HOURS: %w", err))
		}
		s.Quiet = q
	}
	switch v := strings.ToLower(r.Get("BROADCAST_REMINDERS")); v {
	case "on":
		s.Reminders = true
	case "off":
	default:
		r.Fail(fmt.Errorf("BROADCAST_REMINDERS=%q: want on or off", v))
	}
	return s
}
