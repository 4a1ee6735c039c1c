package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ProgramEdits keeps the admins' edits of the programs in one hash, <p>:programs
// (field: program id, value: the edited program as JSON, programs.Edit), laid over the
// programs file by programs.Live. The store keeps the text as given; programs reads
// and checks it. A catalog is a few dozen programs at most, read whole.
type ProgramEdits struct {
	c   redis.UniversalClient
	key string
}

// ProgramEdits returns the store's program edits.
func (s *Store) ProgramEdits() *ProgramEdits {
	return &ProgramEdits{c: s.c, key: s.prefix + ":programs"}
}

// List returns every edit, by program id.
func (p *ProgramEdits) List(ctx context.Context) (map[string]string, error) {
	all, err := p.c.HGetAll(ctx, p.key).Result()
	if err != nil {
		return nil, fmt.Errorf("program edits list: %w", err)
	}
	return all, nil
}

// Put sets the edit of program id, replacing the one it had.
func (p *ProgramEdits) Put(ctx context.Context, id, value string) error {
	if err := p.c.HSet(ctx, p.key, id, value).Err(); err != nil {
		return fmt.Errorf("program edits put %s: %w", id, err)
	}
	return nil
}

// Delete removes the edit of program id (the programs file decides it again); it
// reports whether there was one.
func (p *ProgramEdits) Delete(ctx context.Context, id string) (bool, error) {
	n, err := p.c.HDel(ctx, p.key, id).Result()
	if err != nil {
		return false, fmt.Errorf("program edits delete %s: %w", id, err)
	}
	return n == 1, nil
}
