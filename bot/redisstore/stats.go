package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// The reports' counters: Commit adds each event's bot.Tally to its day's counters in
// the conversation's shard, in the commit script, so an event is counted once and a
// report reads days × shards keys, never the conversations.
//
//	<p>:{sNN}:stats:<day>          hash  field → count (statField names the fields)
//	<p>:{sNN}:stats:<day>:took     list  "<kind> <seconds>": draft start to submission
//	<p>:{sNN}:stats:<day>:answers  list  "<waiting since ms> <answered ms>"

// Defaults of the reports' counters.
const (
	DefaultStatsTTL = 400 * 24 * time.Hour
	// StatsSamplesMax bounds the lists of one shard and day (the newest are kept): a
	// median needs a sample, not every submission of a very busy day.
	StatsSamplesMax = 5000
)

// ReportDaysMax is the longest period Report reads.
const ReportDaysMax = 400

// statsKeys are the counters' keys of one day in the conversation's shard.
func (k convKeys) stats(day string) (counts, took, answers string) {
	base := k.base + "stats:" + day
	return base, base + ":took", base + ":answers"
}

func (s *Store) statsKeys(shard int, day string) (counts, took, answers string) {
	return convKeys{base: s.prefix + ":" + tag(shard) + ":"}.stats(day)
}

// Counter fields. Parts are joined with ":"; channel, kind, program, field and step ids
// never hold one.
const (
	fieldNew     = "new"    // new:<channel>
	fieldActive  = "active" // active:<channel>
	fieldMessage = "msg"    // msg:<channel>
	fieldSub     = "sub"    // sub:<channel>:<kind>
	fieldProgram = "prog"   // prog:<program>:<kind>
	fieldField   = "field"  // field:<program>:<field> (initiatives)
	fieldStep    = "step"   // step:<program>:<step>
)

func statField(parts ...string) string { return strings.Join(parts, ":") }

// tallyArgs are a tally's ARGV for the commit script: the number of counter fields, the
// fields, the sample of time to submit ("" for none), the answer pair ("" for none),
// the ttl and the samples' bound.
func (s *Store) tallyArgs(t bot.Tally) []any {
	var fields []any
	ch := string(t.Channel)
	if t.NewConversation {
		fields = append(fields, statField(fieldNew, ch))
	}
	if t.Active {
		fields = append(fields, statField(fieldActive, ch))
	}
	if t.Message {
		fields = append(fields, statField(fieldMessage, ch))
	}
	for _, step := range t.Steps {
		fields = append(fields, statField(fieldStep, t.StepProgram, step))
	}
	took, answer := "", ""
	if sub := t.Submitted; sub != nil {
		fields = append(fields, statField(fieldSub, ch, sub.Kind), statField(fieldProgram, sub.Program, sub.Kind))
		if sub.Field != "" && sub.Kind == bot.KindInitiative {
			fields = append(fields, statField(fieldField, sub.Program, sub.Field))
		}
		if sub.Took > 0 {
			took = sub.Kind + " " + strconv.FormatInt(int64(sub.Took/time.Second), 10)
		}
	}
	if a := t.Answer; a != nil {
		answer = strconv.FormatInt(a.WaitingSince.UnixMilli(), 10) + " " + strconv.FormatInt(a.Answered.UnixMilli(), 10)
	}
	args := append([]any{len(fields)}, fields...)
	return append(args, took, answer, millis(s.o.StatsTTL), StatsSamplesMax)
}

// Report sums the counters of the days from..to (inclusive, days in the city) over
// every shard, with one pipeline.
func (s *Store) Report(ctx context.Context, from, to time.Time) (bot.Report, error) {
	days := reportDays(from, to)
	if len(days) == 0 || len(days) > ReportDaysMax {
		return bot.Report{}, fmt.Errorf("redisstore: report: %d days (1 to %d)", len(days), ReportDaysMax)
	}
	type read struct {
		counts       *redis.MapStringStringCmd
		took, answer *redis.StringSliceCmd
	}
	reads := make([][]read, len(days))
	pipe := s.c.Pipeline()
	for i, day := range days {
		reads[i] = make([]read, Shards)
		for sh := range Shards {
			counts, took, answers := s.statsKeys(sh, day)
			reads[i][sh] = read{pipe.HGetAll(ctx, counts), pipe.LRange(ctx, took, 0, -1), pipe.LRange(ctx, answers, 0, -1)}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return bot.Report{}, fmt.Errorf("redisstore: report: %w", err)
	}
	sum := newReportSum(days[0], days[len(days)-1])
	for i, day := range days {
		d := bot.ReportDay{Day: day}
		for _, r := range reads[i] {
			for f, v := range r.counts.Val() {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return bot.Report{}, fmt.Errorf("redisstore: report: %s %s: %w", day, f, err)
				}
				sum.count(&d.ReportCounts, f, n)
			}
			sum.took(r.took.Val())
			sum.answers(r.answer.Val())
		}
		sum.r.Days = append(sum.r.Days, d)
		sum.r.Totals.Add(d.ReportCounts)
	}
	return sum.done(), nil
}

// reportDays are the days from..to in the city, oldest first.
func reportDays(from, to time.Time) []string {
	loc := bot.HoChiMinh()
	a, b := from.In(loc), to.In(loc)
	day := time.Date(a.Year(), a.Month(), a.Day(), 12, 0, 0, 0, loc)
	last := bot.Day(b)
	var days []string
	for n := 0; n <= ReportDaysMax; n++ {
		d := bot.Day(day)
		if d > last {
			break
		}
		days = append(days, d)
		day = day.AddDate(0, 0, 1)
	}
	return days
}

// reportSum adds counters up into a report.
type reportSum struct {
	r bot.Report
}

func newReportSum(from, to string) *reportSum {
	return &reportSum{r: bot.Report{
		From: from, To: to,
		ByChannel:   map[bot.Channel]bot.ReportCounts{},
		Submissions: map[string]int64{},
		ByProgram:   map[string]map[string]int64{}, ByField: map[string]map[string]int64{},
		FunnelByProgram: map[string]map[string]int64{},
		Took:            map[string][]time.Duration{},
	}}
}

// count adds one counter field of a day.
func (s *reportSum) count(day *bot.ReportCounts, field string, n int64) {
	kind, rest, _ := strings.Cut(field, ":")
	a, b, _ := strings.Cut(rest, ":")
	var c bot.ReportCounts
	switch kind {
	case fieldNew:
		c.New = n
	case fieldActive:
		c.Active = n
	case fieldMessage:
		c.Messages = n
	case fieldSub:
		c.Submissions = n
		s.r.Submissions[b] += n
	case fieldProgram:
		add(s.r.ByProgram, a, b, n)
		return
	case fieldField:
		add(s.r.ByField, a, b, n)
		return
	case fieldStep:
		add(s.r.FunnelByProgram, a, b, n)
		return
	default:
		return // a counter this version does not know
	}
	day.Add(c)
	ch := s.r.ByChannel[bot.Channel(a)]
	ch.Add(c)
	s.r.ByChannel[bot.Channel(a)] = ch
}

func add(m map[string]map[string]int64, a, b string, n int64) {
	if m[a] == nil {
		m[a] = map[string]int64{}
	}
	m[a][b] += n
}

// took reads "<kind> <seconds>" samples.
func (s *reportSum) took(vals []string) {
	for _, v := range vals {
		kind, secs, _ := strings.Cut(v, " ")
		n, err := strconv.ParseInt(secs, 10, 64)
		if err != nil {
			continue // not written by this store
		}
		s.r.Took[kind] = append(s.r.Took[kind], time.Duration(n)*time.Second)
	}
}

// answers reads "<waiting since ms> <answered ms>" pairs.
func (s *reportSum) answers(vals []string) {
	for _, v := range vals {
		a, b, _ := strings.Cut(v, " ")
		since, err1 := strconv.ParseInt(a, 10, 64)
		at, err2 := strconv.ParseInt(b, 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		s.r.Answers = append(s.r.Answers, bot.AnswerPair{WaitingSince: time.UnixMilli(since), Answered: time.UnixMilli(at)})
	}
}

// done sorts the samples and totals the funnel.
func (s *reportSum) done() bot.Report {
	for kind := range s.r.Took {
		slices.Sort(s.r.Took[kind])
	}
	for _, step := range bot.FunnelSteps {
		var n int64
		for _, byStep := range s.r.FunnelByProgram {
			n += byStep[step]
		}
		s.r.Funnel = append(s.r.Funnel, bot.FunnelStep{Step: step, Reached: n})
	}
	return s.r
}
