package flows

import (
	"context"
	"testing"
)

// The flows tell the engine what the states alone cannot: an answer refused and asked
// again (Missed), and a step gone back from (Back); help at a step is neither.
func TestResultSaysMissedAndBack(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "vi", testStart)
	for _, a := range []act{command("start", ""), press("cmd:initiative"), press("agree"),
		press("program:do-thi-thong-minh"), press("field:moi-truong")} {
		h.do(ctx, a)
	}
	for _, c := range []struct {
		act          act
		step         string
		missed, back bool
	}{
		{say("x"), "title", true, false},
		{say("Trồng cây xanh trên mái trường học"), "description", false, false},
		{press("cmd:back"), "title", false, true},
		{say("help"), "title", false, false},
		{say("Trồng cây xanh trên mái trường học"), "description", false, false},
	} {
		h.n++
		ev := c.act.ev
		ev.ID, ev.Conversation, ev.Lang, ev.At = "s"+string(rune('a'+h.n)), h.s.Conversation, "vi", h.now
		res, err := h.r.Respond(ctx, h.s, ev)
		if err != nil {
			t.Fatal(err)
		}
		if h.s.State.Step != c.step || res.Missed != c.missed || res.Back != c.back {
			t.Errorf("%q: at %s, missed %v, back %v; want %s, %v, %v", ev.Text+ev.Payload, h.s.State.Step, res.Missed, res.Back,
				c.step, c.missed, c.back)
		}
	}
}
