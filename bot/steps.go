package bot

// This file says what an event did at the steps of a flow, for the metrics: the
// engine compares where the conversation stood before the event with where it stands
// after, and the conversation's word (Result.Missed, Result.Back) settles what the
// states alone cannot tell (a wrong answer after a question that reset the count; a
// "back" to the review, which looks like an edit answered).

// StepOutcome is what an event did at one step of a flow.
type StepOutcome string

// Step outcomes. Every arrival at a step (StepReached) ends in one of StepAnswered,
// StepBack or StepAbandoned, or is still open (or expired: a draft Redis dropped
// after DraftTTL of silence leaves no event to count it by).
const (
	// StepReached: the conversation arrived at the step and asked its question.
	// Steps that answer themselves (a single open program) are passed unasked and
	// not counted.
	StepReached StepOutcome = "reached"
	// StepAnswered: the citizen's answer moved the draft on from the step (to the
	// next step, the review, or the submission).
	StepAnswered StepOutcome = "answered"
	// StepInvalid: the step (or a yes/no question asked at it) refused the answer and
	// asked again; the conversation stays at the step.
	StepInvalid StepOutcome = "invalid"
	// StepBack: the citizen went back from the step to an earlier one.
	StepBack StepOutcome = "back"
	// StepAbandoned: the flow ended, or started over, with the step unanswered: the
	// citizen cancelled, went back from the first step, started over or another
	// flow, had themselves forgotten, or came back to a draft past its time.
	StepAbandoned StepOutcome = "abandoned"
)

// StepMove is one outcome at a step of a flow. Flow and Step are the names the flows
// store in State, never anything the citizen wrote.
type StepMove struct {
	Flow, Step string
	Outcome    StepOutcome
}

// place is where a conversation stands in a flow: the flow, its step, and the draft
// (a new draft at the same step is a new arrival there).
type place struct{ flow, step, draft string }

func placeOf(s *Session) place {
	p := place{flow: s.State.Flow, step: s.State.Step}
	if d := s.State.Draft; d != nil {
		p.draft = d.ID
	}
	return p
}

// stepMoves is what the event that led from a to b (with res) did at the steps.
func stepMoves(a, b place, res Result) []StepMove {
	var moves []StepMove
	switch {
	case a.flow == "" || a.step == "":
	case a == b:
		// Still at the step: a miss, or something beside the question (help, status, a
		// question to confirm a cancel, a person asked for).
		if res.Missed {
			moves = append(moves, StepMove{a.flow, a.step, StepInvalid})
		}
		return moves
	case b.flow != "" && b.draft == a.draft && res.Back:
		moves = append(moves, StepMove{a.flow, a.step, StepBack})
	case b.flow != "" && b.draft == a.draft, res.Submission != nil && res.Submission.ID == a.draft:
		moves = append(moves, StepMove{a.flow, a.step, StepAnswered})
	default:
		moves = append(moves, StepMove{a.flow, a.step, StepAbandoned})
	}
	if b.flow != "" && b.step != "" {
		moves = append(moves, StepMove{b.flow, b.step, StepReached})
	}
	return moves
}
