package bot

import (
	"fmt"
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
		return "[contact] " + ev.Contact.Name + " " + ev.Contact.Phone
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
	case EventUnsupported:
		return "[" + ev.Unsupported + "]"
	default:
		return "[" + string(ev.Kind) + "]"
	}
}
