package workday

import (
	"fmt"
	"time"
)

// Targets are the promises the console's clocks keep, in working time: the city's
// first answer to a citizen who asked for a person, and the conversation resolved.
type Targets struct {
	FirstAnswer time.Duration
	Resolution  time.Duration
	// Near is the share of a target after which its clock turns amber (0.75: with a
	// quarter of the time left).
	Near float64
}

// DefaultTargets are Da Nang's 1022 portal's promises: a first answer within 1
// working day, resolution within 3.
var DefaultTargets = Targets{FirstAnswer: Day, Resolution: 3 * Day, Near: 0.75}

// Validate reports targets that cannot run a clock.
func (t Targets) Validate() error {
	if t.FirstAnswer <= 0 || t.Resolution <= 0 {
		return fmt.Errorf("workday: targets must be positive (first answer %v, resolution %v)", t.FirstAnswer, t.Resolution)
	}
	if t.Near <= 0 || t.Near >= 1 {
		return fmt.Errorf("workday: near must be between 0 and 1, got %v", t.Near)
	}
	return nil
}

// State is how a clock stands against its target.
type State string

// The states of a clock: green, amber, red on the console.
const (
	OnTime State = "on_time"
	Near   State = "near"
	Late   State = "late"
)

// Clock is one running response clock: started at Since, due Due.
type Clock struct {
	Since time.Time
	Due   time.Time
	// Used is the working time passed, Target the working time allowed.
	Used, Target time.Duration
	State        State
}

// Clock measures a clock started at since with target d, as it stands at now.
func (c *Calendar) Clock(since, now time.Time, d time.Duration, near float64) Clock {
	used := c.Between(since, now)
	st := OnTime
	switch {
	case used >= d:
		st = Late
	case float64(used) >= near*float64(d):
		st = Near
	}
	return Clock{Since: since, Due: c.Add(since, d), Used: used, Target: d, State: st}
}
