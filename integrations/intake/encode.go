package intake

import (
	"fmt"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// SubmissionSchema names the format of a submission document: a line of the JSONL file
// and the body the JSON client posts (docs/intake-submission.schema.json).
const SubmissionSchema = "sangkien.submission/v1"

// document is a submission as the intake receives it: the schema first, then every
// field of the submission.
type document struct {
	Schema string `json:"schema"`
	bot.Submission
}

// EncodeSubmission renders the submission document, without a trailing newline. The file
// sink and the JSON client both send exactly these bytes, so a file written today and a
// request posted tomorrow parse alike.
//
// Times are written in the city's time (+07:00), as the schema says, whatever the zone
// of the host that took the submission.
func EncodeSubmission(s bot.Submission) ([]byte, error) {
	s.SubmittedAt = cityTime(s.SubmittedAt)
	s.ConsentAt = cityTime(s.ConsentAt)
	b, err := json.Marshal(document{Schema: SubmissionSchema, Submission: s})
	if err != nil {
		return nil, fmt.Errorf("encode submission %s: %w", s.ID, err)
	}
	return b, nil
}

// DecodeSubmission reads a submission document and checks its schema name. Fields it
// does not know are ignored, as docs/intake.md asks of every receiver: v1 may gain
// optional fields, and a change that breaks a reader gets a new schema name.
func DecodeSubmission(data []byte) (bot.Submission, error) {
	var d document
	if err := json.Unmarshal(data, &d); err != nil {
		return bot.Submission{}, fmt.Errorf("decode submission: %w", err)
	}
	if d.Schema != SubmissionSchema {
		return bot.Submission{}, fmt.Errorf("decode submission: schema %q, want %q", d.Schema, SubmissionSchema)
	}
	return d.Submission, nil
}

// cityTime is t in the city's time zone; the zero time stays zero (and left out).
func cityTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(bot.HoChiMinh())
}
