package bot

import (
	"reflect"
	"testing"
)

// What an event did at the steps follows from where the conversation stood before and
// after it, and from the conversation's word where the states alone cannot tell.
func TestStepMoves(t *testing.T) {
	at := func(step, draft string) place { return place{flow: KindInitiative, step: step, draft: draft} }
	menu := place{}
	move := func(step string, o StepOutcome) StepMove { return StepMove{KindInitiative, step, o} }
	for _, c := range []struct {
		name string
		a, b place
		res  Result
		want []StepMove
	}{
		{"at the menu", menu, menu, Result{}, nil},
		{"a flow started", menu, at("consent", "d1"), Result{}, []StepMove{move("consent", StepReached)}},
		{"an answer", at("title", "d1"), at("description", "d1"), Result{},
			[]StepMove{move("title", StepAnswered), move("description", StepReached)}},
		{"a wrong answer", at("title", "d1"), at("title", "d1"), Result{Missed: true}, []StepMove{move("title", StepInvalid)}},
		{"help at a step", at("title", "d1"), at("title", "d1"), Result{}, nil},
		{"back", at("description", "d1"), at("title", "d1"), Result{Back: true},
			[]StepMove{move("description", StepBack), move("title", StepReached)}},
		// From an edited step, back and an answer both return to the review.
		{"back to the review", at("title", "d1"), at("review", "d1"), Result{Back: true},
			[]StepMove{move("title", StepBack), move("review", StepReached)}},
		{"back from the first step", at("consent", "d1"), menu, Result{Back: true}, []StepMove{move("consent", StepAbandoned)}},
		{"cancelled", at("title", "d1"), menu, Result{}, []StepMove{move("title", StepAbandoned)}},
		{"forgotten", at("title", "d1"), menu, Result{Forget: true}, []StepMove{move("title", StepAbandoned)}},
		{"started over", at("title", "d1"), at("consent", "d2"), Result{},
			[]StepMove{move("title", StepAbandoned), move("consent", StepReached)}},
		{"another flow", at("title", "d1"), place{flow: KindFeedback, step: "topic", draft: "d2"}, Result{},
			[]StepMove{move("title", StepAbandoned), {KindFeedback, "topic", StepReached}}},
		{"submitted", at("review", "d1"), menu, Result{Submission: &Submission{ID: "d1"}}, []StepMove{move("review", StepAnswered)}},
	} {
		if got := stepMoves(c.a, c.b, c.res); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
