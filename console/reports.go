package console

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/console/workday"
	"github.com/sangkien/sangkien/locales"
)

// This file is the reports page (GET /console/reports) and its JSON
// (GET /console/api/reports?days=30): what a program manager reads of the last days,
// from the counters the engine keeps as events happen (bot/stats.go).

// Reports are the counters the reports read: redisstore.Store.
type Reports interface {
	Report(ctx context.Context, from, to time.Time) (bot.Report, error)
}

// ReportPeriods are the periods a report offers, in days; DefaultReportDays is the one
// shown when none is asked for.
var ReportPeriods = []int{7, 30, 90}

// DefaultReportDays is the period of a report when none is asked for.
const DefaultReportDays = 30

// reports is Config.Reports, or the conversations' store when it keeps the counters too
// (redisstore.Store does), nil when neither.
func (s *Server) reports() Reports {
	if s.cfg.Reports != nil {
		return s.cfg.Reports
	}
	r, _ := s.cfg.Conversations.(Reports)
	return r
}

var errPeriod = errors.New("days must be 7, 30 or 90")

// period reads ?days=: one of ReportPeriods, DefaultReportDays when absent.
func period(r *http.Request) (int, error) {
	v := r.URL.Query().Get("days")
	if v == "" {
		return DefaultReportDays, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || !slices.Contains(ReportPeriods, n) {
		return 0, errPeriod
	}
	return n, nil
}

// readReport reads the report of the last days days, today included.
func (s *Server) readReport(ctx context.Context, days int) (bot.Report, error) {
	src := s.reports()
	if src == nil {
		return bot.Report{}, errors.New("console: no report counters configured")
	}
	to := s.cfg.Now().In(zone())
	r, err := src.Report(ctx, to.AddDate(0, 0, 1-days), to)
	if err != nil {
		return bot.Report{}, fmt.Errorf("console: report: %w", err)
	}
	return r, nil
}

func (s *Server) apiReports(w http.ResponseWriter, r *http.Request, _ bot.StaffMember) {
	days, err := period(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rep, err := s.readReport(r.Context(), days)
	if err != nil {
		s.storeFailed(w, "report", err)
		return
	}
	writeJSON(w, http.StatusOK, s.reportOf(rep, days, s.lang(w, r)))
}

func (s *Server) reportsPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.newView(w, r, "reports", c)
	days, err := period(r)
	if err != nil {
		s.errorPage(w, r, c, http.StatusBadRequest, "console.error.filter")
		return
	}
	rep, err := s.readReport(r.Context(), days)
	if err != nil {
		s.log.Error("report", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	l := s.cat.For(v.Lang)
	v.Title = l.T("console.reports.title")
	v.Report = s.reportPage(s.reportOf(rep, days, v.Lang), l)
	s.render(w, http.StatusOK, "reports", v)
}

// reportJSON is a report as the API gives it; the page is drawn from it too.
type reportJSON struct {
	From         string                `json:"from"`
	To           string                `json:"to"`
	Days         int                   `json:"days"`
	Totals       bot.ReportCounts      `json:"totals"`
	Submissions  map[string]int64      `json:"submissions"`
	PerDay       []dayJSON             `json:"per_day"`
	Channels     []channelJSON         `json:"channels"`
	Programs     []programJSON         `json:"programs"`
	Fields       []fieldJSON           `json:"fields"`
	Funnel       []funnelJSON          `json:"funnel"`
	TimeToSubmit map[string]medianJSON `json:"time_to_submit"`
	FirstAnswers answersJSON           `json:"first_answers"`
}

type dayJSON struct {
	Day string `json:"day"`
	bot.ReportCounts
}

type channelJSON struct {
	Channel string `json:"channel"`
	bot.ReportCounts
}

// programJSON counts a program's submissions; ID is bot.NoProgram for feedback on no
// program.
type programJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Initiatives int64  `json:"initiatives"`
	Feedback    int64  `json:"feedback"`
}

type fieldJSON struct {
	Program     string `json:"program"`
	ProgramName string `json:"program_name"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Initiatives int64  `json:"initiatives"`
}

// funnelJSON is one step of the initiative flow: how many drafts reached it and how
// many went no further (left it, or are still there), as counts and as percentages of
// the drafts started.
type funnelJSON struct {
	Step       string  `json:"step"`
	Reached    int64   `json:"reached"`
	Left       int64   `json:"left"`
	ReachedPct float64 `json:"reached_pct"`
	LeftPct    float64 `json:"left_pct"`
}

type medianJSON struct {
	MedianSeconds int64 `json:"median_seconds"`
	Samples       int   `json:"samples"`
}

// answersJSON are the first staff answers of the period against the first-answer
// target, in working time.
type answersJSON struct {
	Count         int     `json:"count"`
	WithinTarget  int     `json:"within_target"`
	Share         float64 `json:"share"` // percent; 0 without answers
	TargetSeconds int64   `json:"target_seconds"`
}

// reportOf shapes a report: rows sorted by count, names in lang.
func (s *Server) reportOf(r bot.Report, days int, lang string) reportJSON {
	out := reportJSON{From: r.From, To: r.To, Days: days, Totals: r.Totals, Submissions: r.Submissions,
		TimeToSubmit: map[string]medianJSON{}}
	if out.Submissions == nil {
		out.Submissions = map[string]int64{}
	}
	for _, d := range r.Days {
		out.PerDay = append(out.PerDay, dayJSON{Day: d.Day, ReportCounts: d.ReportCounts})
	}
	for ch, c := range r.ByChannel {
		out.Channels = append(out.Channels, channelJSON{Channel: string(ch), ReportCounts: c})
	}
	slices.SortFunc(out.Channels, func(a, b channelJSON) int {
		return cmpCounts(a.Active+a.Submissions, b.Active+b.Submissions, a.Channel, b.Channel)
	})
	for id, kinds := range r.ByProgram {
		out.Programs = append(out.Programs, programJSON{ID: id, Name: s.programName(id, lang),
			Initiatives: kinds[bot.KindInitiative], Feedback: kinds[bot.KindFeedback]})
	}
	slices.SortFunc(out.Programs, func(a, b programJSON) int {
		return cmpCounts(a.Initiatives+a.Feedback, b.Initiatives+b.Feedback, a.Name, b.Name)
	})
	for prog, fields := range r.ByField {
		for id, n := range fields {
			out.Fields = append(out.Fields, fieldJSON{Program: prog, ProgramName: s.programName(prog, lang), ID: id,
				Name: s.fieldName(prog, id, lang), Initiatives: n})
		}
	}
	slices.SortFunc(out.Fields, func(a, b fieldJSON) int {
		return cmpCounts(a.Initiatives, b.Initiatives, a.ProgramName+"/"+a.Name, b.ProgramName+"/"+b.Name)
	})
	var started int64
	if len(r.Funnel) > 0 {
		started = r.Funnel[0].Reached
	}
	for i, st := range r.Funnel {
		f := funnelJSON{Step: st.Step, Reached: st.Reached, ReachedPct: pct(st.Reached, started)}
		if i+1 < len(r.Funnel) {
			f.Left = max(st.Reached-r.Funnel[i+1].Reached, 0)
			f.LeftPct = pct(f.Left, started)
		}
		out.Funnel = append(out.Funnel, f)
	}
	for kind, ds := range r.Took {
		if m, ok := r.Median(kind); ok {
			out.TimeToSubmit[kind] = medianJSON{MedianSeconds: int64(m / time.Second), Samples: len(ds)}
		}
	}
	target := s.cfg.Targets.FirstAnswer
	out.FirstAnswers = answersJSON{Count: len(r.Answers), TargetSeconds: int64(target / time.Second)}
	for _, a := range r.Answers {
		if s.cfg.Calendar.Between(a.WaitingSince, a.Answered) <= target {
			out.FirstAnswers.WithinTarget++
		}
	}
	out.FirstAnswers.Share = pct(int64(out.FirstAnswers.WithinTarget), int64(out.FirstAnswers.Count))
	return out
}

// cmpCounts orders the larger count first, then by name.
func cmpCounts(a, b int64, an, bn string) int {
	if a != b {
		if a > b {
			return -1
		}
		return 1
	}
	return strings.Compare(an, bn)
}

// pct is n of total in percent, one decimal; 0 when total is.
func pct(n, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return math.Round(float64(n)*1000/float64(total)) / 10
}

// programName is a program's name in lang, its id when the catalog does not know it.
func (s *Server) programName(id, lang string) string {
	if p, ok := s.cfg.Programs.Programs().Get(id); ok {
		return p.Name.In(lang)
	}
	return id
}

func (s *Server) fieldName(program, id, lang string) string {
	if p, ok := s.cfg.Programs.Programs().Get(program); ok {
		if f, ok := p.Field(id); ok {
			return f.Name.In(lang)
		}
	}
	return id
}

// reportView is a report as the page draws it: labels in the staff member's language,
// bar widths in steps of five percent (the page's CSS has a class for each: inline
// styles are refused by the console's Content-Security-Policy).
type reportView struct {
	Days     int
	Periods  []int
	From, To string
	Totals   bot.ReportCounts
	// Initiatives and Feedback are the period's submissions by kind.
	Initiatives, Feedback int64
	PerDay                []dayRow
	Channels              []barRow
	Programs              []programRow
	Fields                []barRow
	Funnel                []funnelRow
	// Median times to submit ("" when none was sent), and how many they are from.
	MedianInitiative, MedianFeedback string
	NInitiative, NFeedback           int
	// First answers within the target.
	Answers                 answersJSON
	AnswersShare, TargetFor string
}

type dayRow struct {
	Date, Weekday        string
	Weekend              bool
	Counts               bot.ReportCounts
	ActiveBar, SubmitBar int
}

type barRow struct {
	Label, Sub string
	Counts     bot.ReportCounts
	N          int64
	Bar        int
}

type programRow struct {
	Name                  string
	Initiatives, Feedback int64
	Bar                   int
}

type funnelRow struct {
	Label               string
	Reached, Left       int64
	ReachedPct, LeftPct string
	ReachedBar, LeftBar int
	Last                bool
}

// Labels the page picks by value (ids are literals, so that the locales test finds
// them).
var (
	stepMsg = map[string]string{
		"consent": "console.reports.step.consent", "program": "console.reports.step.program",
		"field": "console.reports.step.field", "title": "console.reports.step.title",
		"description": "console.reports.step.description", "benefit": "console.reports.step.benefit",
		"location": "console.reports.step.location", "attachments": "console.reports.step.attachments",
		"name": "console.reports.step.name", "phone": "console.reports.step.phone", "email": "console.reports.step.email",
		"review": "console.reports.step.review", bot.FunnelSubmitted: "console.reports.step.submitted",
	}
	channelMsg = map[string]string{string(bot.Web): "console.reports.channel.web", string(bot.Terminal): "console.reports.channel.terminal"}
)

// reportPage lays the report out for the page, in l's language.
func (s *Server) reportPage(r reportJSON, l *locales.Localizer) *reportView {
	v := &reportView{Days: r.Days, Periods: ReportPeriods, From: dayLabel(r.From), To: dayLabel(r.To), Totals: r.Totals,
		Initiatives: r.Submissions[bot.KindInitiative], Feedback: r.Submissions[bot.KindFeedback], Answers: r.FirstAnswers}
	var most int64
	for _, d := range r.PerDay {
		most = max(most, d.Active, d.Submissions)
	}
	for i := len(r.PerDay) - 1; i >= 0; i-- { // newest first
		d := r.PerDay[i]
		day, _ := time.ParseInLocation(time.DateOnly, d.Day, zone())
		v.PerDay = append(v.PerDay, dayRow{Date: day.Format("02/01"), Weekday: l.T(weekdayMsg[day.Weekday()]),
			Weekend: day.Weekday() == time.Saturday || day.Weekday() == time.Sunday, Counts: d.ReportCounts,
			ActiveBar: bar(d.Active, most), SubmitBar: bar(d.Submissions, most)})
	}
	most = 0
	for _, c := range r.Channels {
		most = max(most, c.Active)
	}
	for _, c := range r.Channels {
		v.Channels = append(v.Channels, barRow{Label: channelLabel(c.Channel, l), Counts: c.ReportCounts, Bar: bar(c.Active, most)})
	}
	most = 0
	for _, p := range r.Programs {
		most = max(most, p.Initiatives+p.Feedback)
	}
	for _, p := range r.Programs {
		name := p.Name
		if p.ID == bot.NoProgram {
			name = l.T("console.reports.no_program")
		}
		v.Programs = append(v.Programs, programRow{Name: name, Initiatives: p.Initiatives, Feedback: p.Feedback,
			Bar: bar(p.Initiatives+p.Feedback, most)})
	}
	most = 0
	for _, f := range r.Fields {
		most = max(most, f.Initiatives)
	}
	for _, f := range r.Fields {
		v.Fields = append(v.Fields, barRow{Label: f.Name, Sub: f.ProgramName, N: f.Initiatives, Bar: bar(f.Initiatives, most)})
	}
	for i, f := range r.Funnel {
		label := f.Step
		if id, ok := stepMsg[f.Step]; ok {
			label = l.T(id)
		}
		v.Funnel = append(v.Funnel, funnelRow{Label: label, Reached: f.Reached, Left: f.Left,
			ReachedPct: percent(f.ReachedPct, l.Lang()), LeftPct: percent(f.LeftPct, l.Lang()),
			ReachedBar: barPct(f.ReachedPct), LeftBar: barPct(f.LeftPct), Last: i == len(r.Funnel)-1})
	}
	if m, ok := r.TimeToSubmit[bot.KindInitiative]; ok {
		v.MedianInitiative, v.NInitiative = humanDuration(time.Duration(m.MedianSeconds)*time.Second, l), m.Samples
	}
	if m, ok := r.TimeToSubmit[bot.KindFeedback]; ok {
		v.MedianFeedback, v.NFeedback = humanDuration(time.Duration(m.MedianSeconds)*time.Second, l), m.Samples
	}
	v.AnswersShare = percent(r.FirstAnswers.Share, l.Lang())
	v.TargetFor = workingTime(s.cfg.Targets.FirstAnswer, l)
	return v
}

// dayLabel shows a counters' day as the console shows dates.
func dayLabel(day string) string {
	d, err := time.ParseInLocation(time.DateOnly, day, zone())
	if err != nil {
		return day
	}
	return d.Format("02/01/2006")
}

func channelLabel(ch string, l *locales.Localizer) string {
	if id, ok := channelMsg[ch]; ok {
		return l.T(id)
	}
	switch bot.Channel(ch) {
	case bot.Telegram:
		return "Telegram"
	case bot.Zalo:
		return "Zalo"
	}
	return ch
}

// bar is n of most as a bar's width, in steps of five percent; a count above zero
// always shows.
func bar(n, most int64) int {
	if n <= 0 || most <= 0 {
		return 0
	}
	return max(int(math.Round(float64(n)*20/float64(most)))*5, 5)
}

// barPct is a percentage as a bar's width.
func barPct(p float64) int {
	if p <= 0 {
		return 0
	}
	return max(min(int(math.Round(p/5))*5, 100), 5)
}

// percent shows a percentage: whole when it is, one decimal otherwise (a decimal
// comma in Vietnamese).
func percent(p float64, lang string) string {
	if p == math.Trunc(p) {
		return strconv.Itoa(int(p)) + "%"
	}
	s := strconv.FormatFloat(p, 'f', 1, 64)
	if lang != locales.EN {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + "%"
}

// humanDuration says how long d is, to the minute (to the hour past a day).
func humanDuration(d time.Duration, l *locales.Localizer) string {
	switch {
	case d < time.Minute:
		return l.T("console.reports.dur.under_minute")
	case d < time.Hour:
		return l.T("console.reports.dur.minutes", map[string]any{"Minutes": int(d / time.Minute)})
	case d < 24*time.Hour:
		return l.T("console.reports.dur.hours", map[string]any{"Hours": int(d / time.Hour), "Minutes": int(d % time.Hour / time.Minute)})
	}
	return l.T("console.reports.dur.days", map[string]any{"Days": int(d / (24 * time.Hour)), "Hours": int(d % (24 * time.Hour) / time.Hour)})
}

// workingTime names a target: whole working days when it is, else working hours.
func workingTime(d time.Duration, l *locales.Localizer) string {
	switch {
	case d == workday.Day:
		return l.T("console.reports.target.day")
	case d%workday.Day == 0:
		return l.T("console.reports.target.days", map[string]any{"N": int(d / workday.Day)})
	}
	return l.T("console.reports.target.hours", map[string]any{"N": strconv.FormatFloat(d.Hours(), 'f', -1, 64)})
}

// number writes n with its thousands grouped as lang does: "2.693" in Vietnamese,
// "2,693" in English.
func number(n int64, lang string) string {
	sep := "."
	if lang == locales.EN {
		sep = ","
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
