package flows

import (
	"strings"
	"sync"
	"unicode"

	"github.com/looplab/fsm"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// Global commands: they work at any step, as channel commands ("/cancel"), as button
// payloads ("cmd:cancel") and as whole-message keywords.
const (
	cmdStart      = "start"
	cmdMenu       = "menu"
	cmdHelp       = "help"
	cmdCancel     = "cancel"
	cmdBack       = "back"
	cmdLanguage   = "language"
	cmdStatus     = "status"
	cmdHuman      = "human"
	cmdStop       = "stop"
	cmdSubscribe  = "subscribe"
	cmdForget     = "forget"
	cmdInitiative = "initiative"
	cmdFeedback   = "feedback"
)

// commandName maps a channel command ("/Start@sangkien_bot", "lang") to a command.
// Unknown commands get the help.
func commandName(c string) string {
	c = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(c), "/"))
	if i := strings.IndexByte(c, '@'); i >= 0 {
		c = c[:i]
	}
	switch c {
	case cmdStart, cmdMenu, cmdHelp, cmdCancel, cmdBack, cmdLanguage, cmdStatus, cmdHuman,
		cmdStop, cmdSubscribe, cmdForget, cmdInitiative, cmdFeedback:
		return c
	case "lang":
		return cmdLanguage
	case "operator":
		return cmdHuman
	}
	return cmdHelp
}

// payloadCommand reads the payload of a global button: "cmd:<command>", "cmd:initiative:
// <program id>" (a reminder's button: the program's deep link) or "lang:<code>".
func payloadCommand(p string) (cmd, arg string, ok bool) {
	if c, found := strings.CutPrefix(p, "cmd:"); found {
		c, arg, _ = strings.Cut(c, ":")
		if c = commandName(c); c != cmdInitiative {
			arg = ""
		}
		return c, arg, true
	}
	if l, found := strings.CutPrefix(p, "lang:"); found {
		return cmdLanguage, l, true
	}
	if id, found := strings.CutPrefix(p, payloadRemind); found {
		return cmdRemind, id, true
	}
	return "", "", false
}

// keyword is a command a citizen may type as a whole message, in either language.
type keyword struct {
	cmd, arg string
	words    []string
}

// keywords are matched against the whole message, never a part of a longer answer.
// A message typed with diacritics must match a spelling with them ("hủy"), one typed
// without matches any spelling once folded ("huy").
var keywords = []keyword{
	{cmd: cmdStart, words: []string{"start", "bắt đầu", "bat dau"}},
	{cmd: cmdMenu, words: []string{"menu", "main menu", "menu chính", "trang chủ"}},
	{cmd: cmdHelp, words: []string{"help", "trợ giúp", "giúp đỡ", "hướng dẫn"}},
	{cmd: cmdCancel, words: []string{"cancel", "hủy", "huỷ", "hủy bỏ", "huỷ bỏ"}},
	{cmd: cmdBack, words: []string{"back", "go back", "quay lại", "trở lại"}},
	{cmd: cmdLanguage, words: []string{"language", "lang", "change language", "ngôn ngữ", "đổi ngôn ngữ"}},
	{cmd: cmdLanguage, arg: locales.EN, words: []string{"english", "tiếng anh"}},
	{cmd: cmdLanguage, arg: locales.VI, words: []string{"tiếng việt", "vietnamese"}},
	{cmd: cmdStatus, words: []string{"status", "my submissions", "trạng thái", "hồ sơ của tôi", "tra cứu"}},
	{cmd: cmdHuman, words: []string{"human", "operator", "talk to a person", "gặp cán bộ", "cán bộ", "gặp nhân viên", "nhân viên", "gặp người thật"}},
	{cmd: cmdStop, words: []string{"stop", "unsubscribe", "dừng", "dừng nhận tin", "ngừng nhận tin", "hủy đăng ký", "huỷ đăng ký"}},
	{cmd: cmdSubscribe, words: []string{"subscribe", "đăng ký nhận tin", "đăng ký"}},
	{cmd: cmdForget, words: []string{"forget me", "delete my data", "xóa dữ liệu", "xoá dữ liệu", "xóa dữ liệu của tôi", "xoá dữ liệu của tôi"}},
	{cmd: cmdInitiative, words: []string{"initiative", "propose", "new initiative", "sáng kiến", "đề xuất sáng kiến"}},
	{cmd: cmdFeedback, words: []string{"feedback", "góp ý", "gửi góp ý"}},
}

// nameLike are keywords typed without diacritics that are also Vietnamese given names
// (Huy, Dung): at the step asking for a name they are the answer, not a command.
var nameLike = map[string]bool{"huy": true, "dung": true}

// matchKeyword finds the command a whole message names.
func matchKeyword(text string, atName bool) (cmd, arg string, ok bool) {
	if alnum(text) > keywordIndex().longest {
		return "", "", false // an answer, not a command: folding it is the costly part
	}
	f := fold(text)
	if f == "" {
		return "", "", false
	}
	low := lower(text)
	plain := isASCII(low)
	if atName && plain && nameLike[f] {
		return "", "", false
	}
	for _, sp := range keywordIndex().byFold[f] {
		if !plain && sp.lower != low {
			continue
		}
		return sp.cmd, sp.arg, true
	}
	return "", "", false
}

// spelling is one way of writing a keyword: its command, and the spelling lowered with
// its diacritics kept, which a message typed with diacritics must match.
type spelling struct{ cmd, arg, lower string }

// keywordSpellings are the keywords by their folded spelling, in the order of keywords,
// folded once rather than on every message; longest is the most letters and digits of
// any (a message with more names none).
type keywordSpellings struct {
	byFold  map[string][]spelling
	longest int
}

var keywordIndex = sync.OnceValue(func() keywordSpellings {
	idx := keywordSpellings{byFold: map[string][]spelling{}}
	for _, k := range keywords {
		for _, w := range k.words {
			f := fold(w)
			idx.byFold[f] = append(idx.byFold[f], spelling{cmd: k.cmd, arg: k.arg, lower: lower(w)})
			idx.longest = max(idx.longest, alnum(w))
		}
	}
	return idx
})

// alnum counts the letters and digits of s: what folding keeps, one for one.
func alnum(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// command runs a global command.
func (t *turn) command(in input) error {
	st := &t.s.State
	switch in.cmd {
	case cmdHelp:
		t.say(t.tr("help.text"))
		t.current()
	case cmdLanguage:
		t.language(in.arg)
	case cmdStatus:
		t.status()
		t.current()
	case cmdStop:
		t.s.Profile.OptedOut = true
		t.say(t.tr("stop.done"))
		t.current()
	case cmdSubscribe:
		t.s.Profile.OptedOut = false
		t.say(t.tr("subscribe.done"))
		t.current()
	case cmdRemind:
		t.remind(in.arg)
	case cmdHuman:
		st.Pending, st.Misses = "", 0
		t.s.Profile.Mode = bot.ModeHuman
		t.say(t.tr("human.on")+"\n\n"+t.tr("human.back_hint"), t.backToBotChoice())
	case cmdForget:
		st.Pending, st.Misses = pendingForget, 0
		t.add(t.pendingQuestion())
	case cmdCancel:
		t.cancel()
	case cmdBack:
		return t.back()
	case cmdStart, cmdMenu, cmdInitiative, cmdFeedback:
		st.Pending = ""
		if st.Flow != "" && hasAnswers(st.Draft) {
			t.askResume()
			return nil
		}
		t.clear()
		switch {
		case in.cmd == cmdInitiative || in.cmd == cmdStart && in.arg != "":
			return t.startInitiative(in.arg)
		case in.cmd == cmdFeedback:
			return t.startFeedback()
		case in.cmd == cmdStart:
			t.menu("menu.welcome")
		default:
			t.say(t.tr("menu.ask"), t.menuChoices()...)
		}
	}
	return nil
}

// language switches to lang, or asks which one when lang is empty, then repeats the
// current question in the new language.
func (t *turn) language(lang string) {
	if lang != locales.VI && lang != locales.EN {
		if t.s.Profile.Mode != bot.ModeHuman {
			// In human mode what the citizen types next is for the operator.
			t.s.State.Pending, t.s.State.Misses = pendingLanguage, 0
		}
		t.add(t.languageQuestion())
		return
	}
	if t.s.State.Pending == pendingLanguage {
		t.s.State.Pending, t.s.State.Misses = "", 0
	}
	t.s.Profile.Lang = lang
	t.l = t.r.cat.For(lang)
	t.say(t.tr("language.set"))
	t.current()
}

// languageQuestion asks which language to speak.
func (t *turn) languageQuestion() bot.Reply {
	return bot.Reply{Text: t.tr("language.ask"), Choices: []bot.Choice{
		t.button("language.vi", "lang:"+locales.VI),
		t.button("language.en", "lang:"+locales.EN)}}
}

// cancel ends the flow, asking first when a draft would be lost.
func (t *turn) cancel() {
	st := &t.s.State
	st.Pending = ""
	switch {
	case st.Flow == "":
		t.menu("cancel.nothing")
	case hasAnswers(st.Draft):
		st.Pending, st.Misses = pendingCancel, 0
		t.add(t.pendingQuestion())
	default:
		t.clear()
		t.menu("cancel.done")
	}
}

// back returns to the previous step; from the first step, to the menu. A step opened
// from the review returns to the review.
func (t *turn) back() error {
	st := &t.s.State
	st.Pending, st.Misses = "", 0
	switch {
	case st.Flow == "":
		t.say(t.tr("menu.ask"), t.menuChoices()...)
		return nil
	case !st.Editing && len(st.History) == 0:
		t.clear()
		t.menu("back.first")
		return nil
	}
	to := "review"
	if !st.Editing {
		to = st.History[len(st.History)-1]
	} else if step := t.missingStep(st.Draft); step == st.Step {
		// An edit that emptied this answer (a new program without the chosen field)
		// cannot go back to a review that would submit without it.
		t.say(t.tr(missingMessage(step)))
		t.ask()
		return nil
	}
	f := t.flow()
	var m *fsm.FSM
	if f != nil {
		m = t.backMachine(f)
	}
	if m == nil || !m.Can(backEvent(to)) {
		// A step renamed since the session was stored: start afresh rather than stall.
		t.clear()
		t.say(t.tr("menu.ask"), t.menuChoices()...)
		return nil
	}
	if err := t.fire(m, backEvent(to)); err != nil {
		return err
	}
	t.res.Back = true
	if st.Editing {
		st.Editing = false
	} else {
		st.History = st.History[:len(st.History)-1]
	}
	t.ask()
	return nil
}
