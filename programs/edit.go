package programs

import (
	"errors"
	"fmt"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// Edit is an admin's edit of a program, kept over the programs file: what the console
// may change. Fields, the ZNS template and the id stay the file's.
type Edit struct {
	Name        bot.Text  `json:"name"`
	Description bot.Text  `json:"description"`
	Opens       time.Time `json:"opens"`
	Deadline    time.Time `json:"deadline"`
	// Reminders are the offsets as ParseReminders reads them; nil for the default
	// reminders, empty for none.
	Reminders []string `json:"reminders"`
}

// EditOf is the edit that leaves p as it is: what the console's form starts from.
func EditOf(p bot.Program) Edit {
	e := Edit{Name: p.Name, Description: p.Description, Opens: p.Opens, Deadline: p.Deadline}
	if p.Reminders != nil {
		e.Reminders = FormatReminders(p.Reminders)
	}
	return e
}

// Apply returns p with the edit laid over it, or why the edit cannot stand: a name
// missing in either language, a deadline not after the opening, an offset that does
// not parse.
func (e Edit) Apply(p bot.Program) (bot.Program, error) {
	e.Name = bot.Text{VI: strings.TrimSpace(e.Name.VI), EN: strings.TrimSpace(e.Name.EN)}
	e.Description = bot.Text{VI: strings.TrimSpace(e.Description.VI), EN: strings.TrimSpace(e.Description.EN)}
	if e.Name.VI == "" || e.Name.EN == "" {
		return bot.Program{}, errors.New("a name in vi and en is required")
	}
	if e.Opens.IsZero() || e.Deadline.IsZero() {
		return bot.Program{}, errors.New("an opening and a deadline are required")
	}
	if !e.Deadline.After(e.Opens) {
		return bot.Program{}, errors.New("deadline is not after opening")
	}
	p.Name, p.Description = e.Name, e.Description
	p.Opens, p.Deadline = e.Opens.In(bot.HoChiMinh()), e.Deadline.In(bot.HoChiMinh())
	p.Reminders = nil
	if e.Reminders != nil {
		rs, err := ParseReminders(e.Reminders)
		if err != nil {
			return bot.Program{}, err
		}
		p.Reminders = rs
	}
	return p, nil
}

// MarshalEdit writes e as the store keeps it.
func MarshalEdit(e Edit) (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("program edit: %w", err)
	}
	return string(b), nil
}

// UnmarshalEdit reads an edit as the store keeps it.
func UnmarshalEdit(s string) (Edit, error) {
	var e Edit
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return Edit{}, fmt.Errorf("program edit: %w", err)
	}
	return e, nil
}
