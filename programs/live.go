package programs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Refresh is how long a Live keeps the edits it read before it reads them again:
// another process's edit shows in this one after that long at most.
const Refresh = 30 * time.Second

// readTimeout bounds one read of the edits, so that a Redis out of reach delays one
// turn by that much, not every turn.
const readTimeout = 2 * time.Second

// EditStore keeps the admins' edits by program id, each as MarshalEdit writes it:
// redisstore.ProgramEdits.
type EditStore interface {
	List(ctx context.Context) (map[string]string, error)
	Put(ctx context.Context, id, value string) error
	Delete(ctx context.Context, id string) (bool, error)
}

// ErrUnknown is the error of an edit of a program the file does not list: edits
// change programs, they do not make new ones (a program's fields are the file's).
var ErrUnknown = errors.New("no such program in the programs file")

// Live is the catalog as it stands: the programs file with the admins' edits over it
// (a bot.ProgramSource). It re-reads the edits every Refresh, and at once after an
// edit made through it. While the edits cannot be read it keeps the last catalog it
// read (the file's, at first) and says so once in the log. Safe for concurrent use.
type Live struct {
	file  bot.Programs
	store EditStore
	log   *slog.Logger
	now   func() time.Time

	cur atomic.Pointer[snapshot]
	// reading is held by the one caller that reads the edits; the others keep to the
	// catalog they have meanwhile.
	reading sync.Mutex
	failing bool // under reading: the last read failed
}

// snapshot is the catalog as read at one time.
type snapshot struct {
	programs bot.Programs
	edits    map[string]Edit // the valid edits laid over the file
	read     time.Time
}

// NewLive lays store's edits over file. now is time.Now when nil.
func NewLive(file bot.Programs, store EditStore, log *slog.Logger, now func() time.Time) *Live {
	if now == nil {
		now = time.Now
	}
	return &Live{file: file, store: store, log: log.With("component", "programs"), now: now}
}

// Programs returns the catalog, reading the edits again when the last read is older
// than Refresh. Only one caller at a time reads; the others get the catalog as last
// read, so a slow Redis delays one turn, not all of them.
func (l *Live) Programs() bot.Programs {
	s := l.cur.Load()
	if s != nil && l.fresh(s) {
		return s.programs
	}
	if s == nil {
		l.reading.Lock()
	} else if !l.reading.TryLock() {
		return s.programs
	}
	defer l.reading.Unlock()
	if s = l.cur.Load(); s != nil && l.fresh(s) {
		return s.programs
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	s, _ = l.read(ctx)
	return s.programs
}

// File returns the programs as the file lists them, without the edits.
func (l *Live) File() bot.Programs { return l.file }

// Read reads the edits afresh (a console page shows what is stored, not what was read
// a while ago): the catalog with them, and the valid ones by program id. It refreshes
// the catalog Programs returns.
func (l *Live) Read(ctx context.Context) (bot.Programs, map[string]Edit, error) {
	l.reading.Lock()
	defer l.reading.Unlock()
	s, err := l.read(ctx)
	if err != nil {
		return nil, nil, err
	}
	return s.programs, s.edits, nil
}

// Put stores the edit of program id, once it is found to stand over the file's
// program, and reads the catalog again.
func (l *Live) Put(ctx context.Context, id string, e Edit) error {
	p, ok := l.file.Get(id)
	if !ok {
		return fmt.Errorf("program %q: %w", id, ErrUnknown)
	}
	if _, err := e.Apply(p); err != nil {
		return fmt.Errorf("program %q: %w", id, err)
	}
	v, err := MarshalEdit(e)
	if err != nil {
		return err
	}
	if err := l.store.Put(ctx, id, v); err != nil {
		return err
	}
	l.reread(ctx)
	return nil
}

// Reset deletes the edit of program id: the file decides it again. It reports
// whether there was one.
func (l *Live) Reset(ctx context.Context, id string) (bool, error) {
	ok, err := l.store.Delete(ctx, id)
	if err != nil {
		return false, err
	}
	l.reread(ctx)
	return ok, nil
}

// reread reads the catalog after an edit; should the read fail, the next Programs
// tries again rather than serve the catalog from before the edit for Refresh.
func (l *Live) reread(ctx context.Context) {
	l.reading.Lock()
	defer l.reading.Unlock()
	if _, err := l.read(ctx); err != nil {
		if s := l.cur.Load(); s != nil {
			l.cur.Store(&snapshot{programs: s.programs, edits: s.edits})
		}
	}
}

// fresh reports whether s was read less than Refresh ago (and not in the future: a
// clock set back reads again).
func (l *Live) fresh(s *snapshot) bool {
	age := l.now().Sub(s.read)
	return age >= 0 && age < Refresh
}

// read reads the edits, lays them over the file and keeps the result; the caller
// holds reading. On a failure it keeps the last catalog (the file's, when there is
// none), marked read now so that the next try waits Refresh, and returns it with the
// error.
func (l *Live) read(ctx context.Context) (*snapshot, error) {
	now := l.now()
	raw, err := l.store.List(ctx)
	if err != nil {
		if !l.failing {
			l.log.Error("programs: the admins' edits cannot be read; keeping the catalog as last read", "err", err)
			l.failing = true
		}
		s := l.cur.Load()
		if s == nil {
			s = &snapshot{programs: l.file, edits: map[string]Edit{}}
		}
		s = &snapshot{programs: s.programs, edits: s.edits, read: now}
		l.cur.Store(s)
		return s, err
	}
	if l.failing {
		l.log.Info("programs: the admins' edits are read again")
		l.failing = false
	}
	s := &snapshot{programs: make(bot.Programs, len(l.file)), edits: map[string]Edit{}, read: now}
	copy(s.programs, l.file)
	for id, v := range raw {
		i := slices.IndexFunc(s.programs, func(p bot.Program) bool { return p.ID == id })
		if i < 0 {
			l.log.Warn("programs: an edit of a program the file does not list is left out", "program", id)
			continue
		}
		e, err := UnmarshalEdit(v)
		var p bot.Program
		if err == nil {
			p, err = e.Apply(s.programs[i])
		}
		if err != nil {
			l.log.Warn("programs: an edit is left out", "program", id, "err", err)
			continue
		}
		s.programs[i], s.edits[id] = p, e
	}
	l.cur.Store(s)
	return s, nil
}
