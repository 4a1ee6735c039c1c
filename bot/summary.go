package bot

import (
	"fmt"
	"slices"
	"strings"
)

// Summarize renders an event as one transcript line for operators.
func Summarize(ev Event) string {
	switch ev.Kind {
	case EventText:
		return ev.Text
	case EventCommand:
		return strings.TrimSpace("/" + ev.Command + " " + ev.Payload)
	case EventButton:
		return "[" + ev.Payload + "]"
	case EventContact:
		if ev.Contact == nil {
			return "[contact]"
		}
		return strings.TrimSpace("[contact] " + ev.Contact.Name + " " + ev.Contact.Phone + " " + ev.Contact.Address)
	case EventLocation:
		if ev.Location == nil {
			return "[location]"
		}
		return fmt.Sprintf("[location] %.6f,%.6f %s", ev.Location.Lat, ev.Location.Lon, ev.Location.Label)
	case EventAttachments:
		names := make([]string, 0, len(ev.Attachments))
		for _, a := range ev.Attachments {
			names = append(names, string(a.Kind)+":"+a.Name)
		}
		return strings.TrimSpace("[" + strings.Join(names, ", ") + "] " + ev.Text)
	case EventStaffMessage, EventStaffReply, EventStaffNote:
		return ev.Text
	case EventStaffJoin, EventStaffHandback, EventStaffResolve:
		return strings.TrimSpace("[" + string(ev.Kind) + "] " + ev.Staff)
	case EventStaffAssign:
		return strings.TrimSpace("[" + string(ev.Kind) + "] " + ev.Payload)
	case EventUnsupported:
		return "[" + ev.Unsupported + "]"
	case EventStatus:
		if ev.Status == nil {
			return "[status]"
		}
		return strings.Join(slices.DeleteFunc([]string{"[status]", ev.Status.Reference, ev.Status.Status},
			func(s string) bool { return s == "" }), " ")
	default:
		return "[" + string(ev.Kind) + "]"
	}
}
