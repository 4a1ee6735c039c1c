package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// OutboxAdmin is the outbox as operators see it: redisstore.Store implements it.
type OutboxAdmin interface {
	PendingSubmissions(ctx context.Context) ([]bot.PendingSubmission, error)
	FailedSubmissions(ctx context.Context) ([]bot.SubmissionFailure, error)
	DeadEntries(ctx context.Context) ([]bot.DeadEntry, error)
	// RetryFailed answers bot.ErrUnknownSubmission for an id not on the failed list.
	RetryFailed(ctx context.Context, id string) error
	RetryAllFailed(ctx context.Context) ([]string, error)
}

// Admin prints the tables of `sangkien intake pending|failed|dead` and moves refused
// submissions back to the outbox (`sangkien intake retry`).
type Admin struct {
	Outbox OutboxAdmin
	Out    io.Writer
	// Zone is the time zone the tables show times in: the city's.
	Zone *time.Location
}

// AdminHelp describes the operator commands Run knows, for a command line's --help.
const AdminHelp = `  pending          submissions waiting for the intake: new ones and ones being retried,
                   with their attempts, next try and last error
  failed           submissions the intake refused for good (a 4xx other than 408 and
                   429), with its status and answer
  retry <id>       move a failed submission back to the outbox: the gateway delivers it
                   once more (after the cause is fixed)
  retry --all      the same for every failed submission
  dead             outbox entries nobody could read (damaged or from another version),
                   set aside so they block nothing; look into them by hand
`

// ErrUnknownCommand is Run's answer to a command it does not know.
var ErrUnknownCommand = errors.New("unknown command")

// Run runs the operator command name: pending, failed, dead, or retry (of ids, or of
// every failed submission with all).
func (a Admin) Run(ctx context.Context, name string, ids []string, all bool) error {
	switch name {
	case "pending":
		return a.Pending(ctx)
	case "failed":
		return a.Failed(ctx)
	case "dead":
		return a.Dead(ctx)
	case "retry":
		return a.Retry(ctx, ids, all)
	}
	return fmt.Errorf("%w %q", ErrUnknownCommand, name)
}

// Pending lists the submissions waiting for the intake: new ones and ones being retried.
func (a Admin) Pending(ctx context.Context) error {
	w, stamp := a.Out, a.stamp
	pending, err := a.Outbox.PendingSubmissions(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREFERENCE\tKIND\tSUBMITTED\tATTEMPTS\tNEXT TRY\tLAST ERROR")
	for _, p := range pending {
		next, last := "now", "-"
		if p.Attempts.Count > 0 {
			next = stamp(p.Attempts.Next)
			last = p.Attempts.LastError
			if p.Attempts.Code != 0 && !strings.Contains(last, strconv.Itoa(p.Attempts.Code)) {
				last += " (" + strconv.Itoa(p.Attempts.Code) + ")"
			}
		}
		s := p.Submission
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Reference, s.Kind, stamp(s.SubmittedAt),
			p.Attempts.Count, next, last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d pending\n", len(pending))
	return nil
}

// Dead lists the outbox entries nobody could read.
func (a Admin) Dead(ctx context.Context) error {
	w, stamp := a.Out, a.stamp
	dead, err := a.Outbox.DeadEntries(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tSET ASIDE\tREASON")
	for _, d := range dead {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Entry, stamp(d.At), oneLine(d.Reason, 100))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d dead\n", len(dead))
	return nil
}

// Failed lists the submissions the intake refused for good.
func (a Admin) Failed(ctx context.Context) error {
	w, stamp := a.Out, a.stamp
	failed, err := a.Outbox.FailedSubmissions(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREFERENCE\tKIND\tSUBMITTED\tFAILED\tSTATUS\tATTEMPTS\tANSWER")
	for _, f := range failed {
		s := f.Submission
		status := f.Failure
		if f.Code != 0 {
			status = strconv.Itoa(f.Code)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.ID, s.Reference, s.Kind, stamp(s.SubmittedAt),
			stamp(f.At), status, f.Attempts, oneLine(f.Body, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d failed\n", len(failed))
	return nil
}

// Retry moves the failed submissions ids, or all of them, back to the outbox: the
// gateway delivers them once more.
func (a Admin) Retry(ctx context.Context, ids []string, all bool) error {
	w := a.Out
	if all {
		moved, err := a.Outbox.RetryAllFailed(ctx)
		for _, id := range moved {
			fmt.Fprintf(w, "%s: back in the outbox\n", id)
		}
		fmt.Fprintf(w, "%d submission(s) back in the outbox\n", len(moved))
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := a.Outbox.RetryFailed(ctx, id); err != nil {
			if errors.Is(err, bot.ErrUnknownSubmission) {
				err = fmt.Errorf("%s: not on the failed list", id)
			}
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(w, "%s: back in the outbox\n", id)
	}
	return errors.Join(errs...)
}

// stamp shows a time in the city's time zone, to the minute.
func (a Admin) stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(a.Zone).Format("2006-01-02 15:04")
}

// oneLine flattens and shortens an intake's answer for a table cell.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	if s == "" {
		s = "-"
	}
	return s
}
