package flows

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/looplab/fsm"

	"github.com/sangkien/sangkien/bot"
)

// flow is one conversation flow: a transition table (data) and its steps.
type flow struct {
	first string
	// events is the looplab/fsm transition table. "next" moves on after an answer,
	// "skip" passes an optional step, "review" returns to the review after an edit,
	// "edit_<step>" opens a step from the review, "missing_<step>"
	// sends a submission without a required answer back to ask it (submit.go).
	events fsm.Events
	// withBack is events and "back_<step>" from every step to each (withBack): the
	// table of a turn that goes back. Kept apart because it is the square of the
	// steps, and building it into every turn's machine would cost every turn.
	withBack fsm.Events
	// machines and backMachines are machines of events and withBack, reused turn
	// after turn (addBack makes them).
	machines, backMachines *machines
	steps                  map[string]*step
	// finals are states that end the flow: reaching one runs its action.
	finals map[string]func(t *turn) error
}

// step is one question of a flow.
type step struct {
	// ask is the question, built from the draft (so it can show progress).
	ask func(t *turn) bot.Reply
	// answer validates the input and stores it in the draft.
	answer func(t *turn, in input) outcome
	// auto reports that the step needs no question now (it answers it itself);
	// it is consulted when the step is reached by moving forward.
	auto func(t *turn) bool
}

// outcome is what a step made of an input.
type outcome struct {
	// event moves the machine; "" stays at the step.
	event string
	// miss is the reason the input was refused (already localized); "" when taken.
	miss string
	// note is said before the next question.
	note string
	// keepEditing moves forward with "next" even when the step was opened from the
	// review (a new program needs a new field before the review).
	keepEditing bool
	// pending asks a yes/no question instead of moving.
	pending string
}

// addBack builds the table of the back command: "back_<step>" from every step to each
// step, since the step to return to is the history's last, which depends on what the
// citizen answered and what passed itself, not on where they are now.
func (f *flow) addBack() *flow {
	all := slices.Sorted(maps.Keys(f.steps))
	f.withBack = slices.Clone(f.events)
	for _, s := range all {
		f.withBack = append(f.withBack, fsm.EventDesc{Name: backEvent(s), Src: all, Dst: s})
	}
	f.machines, f.backMachines = newMachines(f.events), newMachines(f.withBack)
	return f
}

// machines hands out looplab/fsm machines of one table. Building one parses the
// table into maps, which every turn would otherwise pay for; a machine holds nothing
// of a turn but its current state, which take sets, and its callback finds the turn
// in the event's arguments (fire passes it).
type machines struct{ pool sync.Pool }

func newMachines(events fsm.Events) *machines {
	m := &machines{}
	m.pool.New = func() any {
		return fsm.NewFSM("", events, fsm.Callbacks{"enter_state": enterState})
	}
	return m
}

// enterState keeps the session's step in line with the machine and starts the new
// step's miss count afresh.
func enterState(_ context.Context, e *fsm.Event) {
	t := e.Args[0].(*turn)
	t.s.State.Step = e.Dst
	t.s.State.Misses = 0
}

// backEvent is the event that returns to step.
func backEvent(step string) string { return "back_" + step }

// check reports a table that names a step without a definition.
func (f *flow) check() error {
	for _, e := range f.withBack {
		for _, s := range append(append([]string{}, e.Src...), e.Dst) {
			if f.steps[s] == nil && f.finals[s] == nil {
				return fmt.Errorf("state %q has no step", s)
			}
		}
	}
	return nil
}

// machine rebuilds the flow's machine at the stored step. enter_state keeps the
// session's step in line with the machine and starts the new step's miss count afresh.
func (t *turn) machine(f *flow) *fsm.FSM { return t.take(f.machines) }

// backMachine is machine with the back command's transitions too.
func (t *turn) backMachine(f *flow) *fsm.FSM { return t.take(f.backMachines) }

// take is a machine of ms at the stored step, given back when the turn ends.
func (t *turn) take(ms *machines) *fsm.FSM {
	m := ms.pool.Get().(*fsm.FSM)
	m.SetState(t.s.State.Step)
	t.taken = append(t.taken, takenMachine{ms, m})
	return m
}

// release gives back the machines the turn took.
func (t *turn) release() {
	for _, tm := range t.taken {
		tm.from.pool.Put(tm.m)
	}
	t.taken = nil
}

// takenMachine is a machine a turn holds, and where it goes back to.
type takenMachine struct {
	from *machines
	m    *fsm.FSM
}

// flow returns the flow the citizen is in, nil when none (or an unknown stored name).
func (t *turn) flow() *flow {
	f := t.r.flows[t.s.State.Flow]
	if f == nil || f.steps[t.s.State.Step] == nil {
		return nil
	}
	return f
}

// start enters a flow at its first step with a new draft.
func (t *turn) start(name string, d *bot.Draft) error {
	f := t.r.flows[name]
	d.ID, d.Kind, d.Started = t.r.newID(), name, t.now
	t.s.State = bot.State{Flow: name, Step: f.first, Draft: d}
	return t.settle(f, t.machine(f), true)
}

// answer hands the input to the current step and moves the machine as it says.
func (t *turn) answer(in input) error {
	f := t.flow()
	if f == nil {
		// A step renamed since the session was stored: start afresh rather than stall.
		t.clear()
		t.say(t.tr("menu.ask"), t.menuChoices()...)
		return nil
	}
	st := &t.s.State
	out := f.steps[st.Step].answer(t, in)
	switch {
	case out.miss != "":
		st.Misses++
		t.missed(out.miss, f.steps[st.Step].ask(t))
		return nil
	case out.pending != "":
		st.Pending, st.Misses = out.pending, 0
		t.add(t.pendingQuestion())
		return nil
	case out.note != "":
		t.say(out.note)
	}
	if out.event == "" {
		st.Misses = 0
		t.ask()
		return nil
	}
	return t.advance(f, out)
}

// advance fires the outcome's event, then passes the steps that need no question.
func (t *turn) advance(f *flow, out outcome) error {
	st := &t.s.State
	m := t.machine(f)
	event, from := out.event, st.Step
	forward := event == "next" || event == "skip"
	if forward && st.Editing && !out.keepEditing && m.Can("review") {
		event, forward = "review", false
	}
	if !m.Can(event) {
		st.Misses++
		t.missed(t.tr("miss.choice"), f.steps[st.Step].ask(t))
		return nil
	}
	if err := t.fire(m, event); err != nil {
		return err
	}
	switch {
	case forward && !st.Editing:
		st.History = append(st.History, from)
	case event == "review":
		st.Editing = false
	case strings.HasPrefix(event, "edit_"):
		st.Editing = true
	}
	return t.settle(f, m, forward)
}

// settle runs a final state's action or, when moving forward, passes steps that
// answer themselves; then it asks the step reached. A step opened from the review
// or by "back" is always asked.
func (t *turn) settle(f *flow, m *fsm.FSM, forward bool) error {
	for {
		cur := m.Current()
		if final := f.finals[cur]; final != nil {
			return final(t)
		}
		s := f.steps[cur]
		if !forward || s.auto == nil || !s.auto(t) || !m.Can("next") {
			break
		}
		if err := t.fire(m, "next"); err != nil {
			return err
		}
	}
	t.ask()
	return nil
}

// fire moves m by event, the turn in its arguments for enterState.
func (t *turn) fire(m *fsm.FSM, event string) error {
	err := m.Event(t.ctx, event, t)
	var none fsm.NoTransitionError
	if err != nil && !errors.As(err, &none) {
		return fmt.Errorf("flow event %s: %w", event, err)
	}
	return nil
}

// ask asks the current step's question.
func (t *turn) ask() {
	f := t.flow()
	if f == nil {
		t.clear()
		t.say(t.tr("menu.ask"), t.menuChoices()...)
		return
	}
	r := f.steps[t.s.State.Step].ask(t)
	if t.s.State.Misses >= 3 {
		r.Choices = append(r.Choices, t.helpChoices()...)
	}
	t.add(r)
}

// missed repeats a question after a wrong answer, with the reason first. From the
// third miss at one question it also offers help and a person.
func (t *turn) missed(reason string, q bot.Reply) {
	t.res.Missed = true
	q.Text = reason + "\n\n" + q.Text
	if t.s.State.Misses >= 3 {
		q.Text += "\n\n" + t.tr("miss.offer_help")
		q.Choices = append(q.Choices, t.helpChoices()...)
	}
	t.add(q)
}

func (t *turn) helpChoices() []bot.Choice {
	return []bot.Choice{t.button("menu.help", "cmd:"+cmdHelp), t.button("menu.human", "cmd:"+cmdHuman)}
}
