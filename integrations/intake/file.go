package intake

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// DefaultFile is where FileSink writes when no path is configured.
const DefaultFile = "./data/submissions.jsonl"

// FileSink appends each submission as one JSON line to a local file, exactly once by
// submission ID: across restarts and across processes that share the file. Every append
// happens under an exclusive flock on the file, after reading what others appended since
// this sink last looked, so two processes never both write one submission.
type FileSink struct {
	path string
	log  *slog.Logger

	mu     sync.Mutex // guards the fields below within this process; flock guards the file
	f      *os.File
	seen   map[string]bool  // submission ids in the file up to offset
	refs   map[string]int64 // highest number of each "SK-2026" reference series in the file
	offset int64            // end of the last complete line read
}

// OpenFileSink opens (creating when missing) the JSONL file at path, with its folder,
// and reads the ids it already holds.
func OpenFileSink(path string, log *slog.Logger) (*FileSink, error) {
	if path == "" {
		path = DefaultFile
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("intake file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("intake file: %w", err)
	}
	s := &FileSink{
		path: path,
		log:  log.With("component", "intake.file"),
		f:    f,
		seen: map[string]bool{},
		refs: map[string]int64{},
	}
	err = s.locked(func() error { return s.catchUp() })
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return s, nil
}

// Path is the file the sink writes.
func (s *FileSink) Path() string { return s.path }

// Deliver appends the submission unless its ID is already in the file, and returns once
// the line is on disk (fsync).
func (s *FileSink) Deliver(ctx context.Context, sub bot.Submission) (bot.Receipt, error) {
	if sub.ID == "" {
		return bot.Receipt{}, errors.New("intake file: submission without id")
	}
	if err := ctx.Err(); err != nil {
		return bot.Receipt{}, fmt.Errorf("intake file: %w", err)
	}
	line, err := EncodeSubmission(sub)
	if err != nil {
		return bot.Receipt{}, fmt.Errorf("intake file: %w", err)
	}
	line = append(line, '\n')
	receipt := bot.Receipt{IntakeID: sub.ID, Status: "received"}
	err = s.locked(func() error {
		if err := s.catchUp(); err != nil {
			return err
		}
		if s.seen[sub.ID] {
			s.log.Info("submission already in file", "submission", sub.ID, "reference", sub.Reference)
			return nil
		}
		if err := s.append(line); err != nil {
			return fmt.Errorf("intake file: append %s: %w", sub.ID, err)
		}
		s.seen[sub.ID] = true
		s.log.Info("submission written", "submission", sub.ID, "reference", sub.Reference)
		return nil
	})
	if err != nil {
		return bot.Receipt{}, err
	}
	return receipt, nil
}

// Close closes the file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Close()
}

// locked runs fn holding both this process's mutex and the file's exclusive flock.
func (s *FileSink) locked(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := flock(s.f, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("intake file: lock %s: %w", s.path, err)
	}
	defer func() {
		if err := flock(s.f, syscall.LOCK_UN); err != nil {
			s.log.Error("unlock intake file", "err", err)
		}
	}()
	return fn()
}

// catchUp reads the lines appended since offset (by this or another process) into seen.
// A last line without its newline is a write that crashed midway, since every append
// ends with one under the lock: it is cut off, and the submission it held, never
// acknowledged, is written again when the outbox redelivers it.
func (s *FileSink) catchUp() error {
	info, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("intake file: stat: %w", err)
	}
	size := info.Size()
	if size < s.offset {
		// Truncated or replaced by hand: forget what we knew and read it all again.
		s.log.Warn("intake file shrank; reading it again", "path", s.path)
		s.seen = map[string]bool{}
		s.offset = 0
	}
	if size == s.offset {
		return nil
	}
	r := bufio.NewReader(io.NewSectionReader(s.f, s.offset, size-s.offset))
	pos := s.offset
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				return s.repair(pos, len(line))
			}
			break
		}
		if err != nil {
			return fmt.Errorf("intake file: read: %w", err)
		}
		s.index(pos, line)
		pos += int64(len(line))
		s.offset = pos
	}
	return nil
}

// index records the submission id of one complete line.
func (s *FileSink) index(pos int64, line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	var r struct {
		ID        string `json:"id"`
		Reference string `json:"reference"`
	}
	if err := json.Unmarshal(line, &r); err != nil || r.ID == "" {
		s.log.Warn("intake file: unreadable line skipped", "path", s.path, "offset", pos)
		return
	}
	s.seen[r.ID] = true
	if i := strings.LastIndexByte(r.Reference, '-'); i > 0 {
		if n, err := strconv.ParseInt(r.Reference[i+1:], 10, 64); err == nil && n > s.refs[r.Reference[:i]] {
			s.refs[r.Reference[:i]] = n
		}
	}
}

// LastReferences returns the highest number of each reference series in the file, by
// series ("SK-2026" → 12 for SK-2026-000012). With an embedded Redis, which keeps no
// counters between runs, the gateway starts its counters from these, so that a
// reference is never given twice to submissions in the same file.
func (s *FileSink) LastReferences() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.refs)
}

// repair cuts off a torn last line that starts at pos.
func (s *FileSink) repair(pos int64, n int) error {
	s.log.Warn("intake file: torn last line removed (a write was interrupted)",
		"path", s.path, "offset", pos, "bytes", n)
	if err := s.f.Truncate(pos); err != nil {
		return fmt.Errorf("intake file: cut torn line: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("intake file: sync: %w", err)
	}
	s.offset = pos
	return nil
}

// append writes one line and syncs it. A failed write is cut back so that the file never
// keeps half a line from this process.
func (s *FileSink) append(line []byte) error {
	if _, err := s.f.Write(line); err != nil {
		if terr := s.f.Truncate(s.offset); terr != nil {
			s.log.Error("intake file: cut back failed write", "err", terr)
		}
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.offset += int64(len(line))
	return nil
}

// flock applies a whole-file advisory lock, retrying when a signal interrupts the wait.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
