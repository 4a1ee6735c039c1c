package intake

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// Limits on a status callback.
const (
	maxCallbackBody    = 64 << 10
	maxCallbackEventID = 200
	maxCityMessage     = 2000 // characters per language: a message must fit one chat bubble
	callbackTimeout    = 10 * time.Second
)

// callbackStatuses are the statuses the intake may report.
var callbackStatuses = map[string]bool{
	bot.StatusReceived: true, bot.StatusUnderReview: true, bot.StatusNeedsInfo: true,
	bot.StatusAccepted: true, bot.StatusRejected: true, bot.StatusImplemented: true,
}

// SubmissionIndex finds the citizen behind a submission; it answers
// bot.ErrUnknownSubmission for one it does not hold. redisstore.Store implements it.
type SubmissionIndex interface {
	LookupSubmission(ctx context.Context, id string) (bot.IndexedSubmission, error)
	LookupReference(ctx context.Context, ref string) (bot.IndexedSubmission, error)
}

// EventHandler runs an event through the conversation. bot.Engine implements it.
type EventHandler interface {
	Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error)
}

// CallbackConfig configures a Callbacks handler.
type CallbackConfig struct {
	// Secret checks the X-Sangkien-Signature of every callback (INTAKE_SECRET).
	Secret []byte
	Index  SubmissionIndex
	Engine EventHandler
	Logger *slog.Logger     // nil: slog.Default()
	Now    func() time.Time // nil: time.Now
}

// callbackBody is a status callback (docs/intake.md).
type callbackBody struct {
	EventID      string     `json:"event_id"`
	SubmissionID string     `json:"submission_id"`
	Reference    string     `json:"reference"`
	Status       string     `json:"status"`
	IntakeID     string     `json:"intake_id"`
	Message      bot.Text   `json:"message"`
	At           *time.Time `json:"at"`
}

// Callbacks serves POST /callbacks/intake: the city's intake tells the gateway that a
// submission's status changed, and the citizen is told through the engine, so the
// notice, the session and the delivery queue change in one step. The engine's dedupe on
// the event id acknowledges a repeated callback without telling the citizen twice.
type Callbacks struct {
	secret []byte
	index  SubmissionIndex
	engine EventHandler
	log    *slog.Logger
	now    func() time.Time
}

// NewCallbacks returns the status callback handler.
func NewCallbacks(c CallbackConfig) (*Callbacks, error) {
	if len(c.Secret) == 0 || c.Index == nil || c.Engine == nil {
		return nil, errors.New("intake callbacks: secret, index and engine are required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Callbacks{
		secret: c.Secret, index: c.Index, engine: c.Engine,
		log: c.Logger.With("component", "intake.callback"), now: c.Now,
	}, nil
}

func (h *Callbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			callbackError(w, http.StatusRequestEntityTooLarge, "body larger than 64 KiB")
			return
		}
		callbackError(w, http.StatusBadRequest, "body unreadable")
		return
	}
	if err := Verify(h.secret, r.Header.Get(SignatureHeader), body, h.now(), DefaultTolerance); err != nil {
		// Debug only: serve's webhook.Guard counts refusals and sums them up once a
		// minute, so that a flood of forged callbacks writes no line each.
		h.log.Debug("callback refused: signature", "err", err)
		callbackError(w, http.StatusUnauthorized, "bad signature")
		return
	}
	var cb callbackBody
	if err := json.Unmarshal(body, &cb); err != nil {
		callbackError(w, http.StatusBadRequest, "body is not the callback JSON")
		return
	}
	if msg := cb.check(); msg != "" {
		callbackError(w, http.StatusBadRequest, msg)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callbackTimeout)
	defer cancel()
	sub, err := h.find(ctx, cb)
	switch {
	case errors.Is(err, bot.ErrUnknownSubmission):
		callbackError(w, http.StatusNotFound, "unknown submission")
		return
	case errors.Is(err, errMismatch):
		callbackError(w, http.StatusBadRequest, "submission_id and reference name different submissions")
		return
	case err != nil:
		h.log.Error("callback: index lookup", "err", err)
		callbackError(w, http.StatusServiceUnavailable, "try again later")
		return
	}
	at := h.now()
	if cb.At != nil && !cb.At.IsZero() {
		at = *cb.At
	}
	out, err := h.engine.Handle(ctx, bot.Event{
		ID: "intake-cb:" + cb.EventID, Conversation: sub.Conversation, Kind: bot.EventStatus,
		Status: &bot.StatusChange{
			SubmissionID: sub.ID, Reference: sub.Reference, Status: cb.Status,
			IntakeID: cb.IntakeID, Message: cb.Message, At: at,
		},
	})
	if err != nil {
		h.log.Error("callback: engine", "submission", sub.ID, "reference", sub.Reference, "err", err)
		callbackError(w, http.StatusServiceUnavailable, "try again later")
		return
	}
	h.log.Info("status callback", "submission", sub.ID, "reference", sub.Reference, "status", cb.Status,
		"duplicate", out.Duplicate)
	w.Header().Set("Content-Type", "application/json")
	if out.Duplicate {
		_, _ = io.WriteString(w, `{"ok":true,"duplicate":true}`+"\n")
		return
	}
	_, _ = io.WriteString(w, `{"ok":true}`+"\n")
}

// check reports what is wrong with a callback, or "".
func (cb callbackBody) check() string {
	switch {
	case cb.EventID == "" || len(cb.EventID) > maxCallbackEventID:
		return "event_id: required, at most 200 bytes"
	case cb.SubmissionID == "" && cb.Reference == "":
		return "submission_id or reference: one is required"
	case !callbackStatuses[cb.Status]:
		return "status: want received, under_review, needs_info, accepted, rejected or implemented"
	case utf8.RuneCountInString(cb.Message.VI) > maxCityMessage || utf8.RuneCountInString(cb.Message.EN) > maxCityMessage:
		return "message: at most 2000 characters in each language"
	case len(cb.IntakeID) > maxCallbackEventID:
		return "intake_id: at most 200 bytes"
	}
	return ""
}

var errMismatch = errors.New("submission id and reference disagree")

// find looks the submission up by id, else by reference; with both, they must agree.
func (h *Callbacks) find(ctx context.Context, cb callbackBody) (bot.IndexedSubmission, error) {
	if cb.SubmissionID == "" {
		return h.index.LookupReference(ctx, cb.Reference)
	}
	sub, err := h.index.LookupSubmission(ctx, cb.SubmissionID)
	if err == nil && cb.Reference != "" && cb.Reference != sub.Reference {
		return sub, errMismatch
	}
	return sub, err
}

// callbackError writes a small JSON error.
func callbackError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(append(b, '\n'))
}
