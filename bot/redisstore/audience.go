package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// This file keeps the broadcasts' audiences (bot/audience.go): per shard, one sorted
// set for each channel, language and index,
//
//	<p>:{sNN}:aud:<channel>:<lang>:<index>   ("aud:telegram:vi:news", "aud:zalo:en:draft:<program>")
//
// with the conversation's key as member and the time it joined as score (ms). Commit
// moves a conversation between them in the same script as its session, so an index is
// never behind the conversation.
//
// The channel and the language are in the set's name, not in the member: a broadcast
// filtered by either reads just its sets, with no member read and thrown away, and a
// preview counts them with ZCARD alone. It costs nothing at write time (a conversation
// is in one channel and one language, so in as many sets either way); a change of
// language moves the member, which is rare.
//
// The score is when the citizen joined, not their last activity, so that an ordinary
// message writes nothing and a walk in score order is stable: a member present from
// start to end of a walk is read exactly once however much they write meanwhile, and
// a cursor saved before a crash resumes where it stopped.

// audienceName is an index's key after "<p>:{sNN}:".
func audienceName(ch bot.Channel, lang, index string) string {
	return "aud:" + string(ch) + ":" + lang + ":" + index
}

// audienceSince is the score a commit gives the indexes the conversation joins.
func audienceSince(c bot.Change) int64 {
	if c.Session == nil {
		return time.Now().UnixMilli()
	}
	return c.Session.Profile.Updated.UnixMilli()
}

// Audience reads one page of at most n members of q in one shard, in the order they
// joined, after cursor ("" for the first page). next is the cursor of the page after,
// "" once the shard is done. Save next to resume after a crash: a member that stayed
// in the audience is read once, one that left is not read after it left, and one that
// joined during the walk is read at its end.
//
// A member whose session expired (for a draft: whose draft expired) is left out and
// removed from the index as it is met, so a page may be shorter than n before the end.
func (s *Store) Audience(ctx context.Context, shard int, q bot.AudienceQuery, cursor string, n int) ([]bot.AudienceMember, string, error) {
	if err := q.Validate(); err != nil {
		return nil, "", fmt.Errorf("redisstore: audience: %w", err)
	}
	if shard < 0 || shard >= Shards || n <= 0 {
		return nil, "", fmt.Errorf("redisstore: audience: shard %d and page size %d: out of range", shard, n)
	}
	srcs := audienceSources(q)
	at, pos, err := parseAudienceCursor(cursor, srcs)
	if err != nil {
		return nil, "", fmt.Errorf("redisstore: audience: %w", err)
	}
	var out []bot.AudienceMember
	for ; at < len(srcs); at, pos = at+1, (audiencePos{}) {
		src := srcs[at]
		key := s.prefix + ":" + tag(shard) + ":" + audienceName(src.ch, src.lang, q.Index())
		for len(out) < n {
			zs, done, err := s.audiencePage(ctx, key, pos, n-len(out))
			if err != nil {
				return nil, "", fmt.Errorf("redisstore: audience: %w", err)
			}
			if len(zs) > 0 {
				last := zs[len(zs)-1]
				pos = audiencePos{score: last.Score, member: last.Member.(string), set: true}
				live, err := s.liveMembers(ctx, shard, key, q, src, zs)
				if err != nil {
					return nil, "", fmt.Errorf("redisstore: audience: %w", err)
				}
				out = append(out, live...)
			}
			if done {
				break
			}
		}
		if len(out) >= n {
			return out, formatAudienceCursor(src, pos), nil
		}
	}
	return out, "", nil
}

// AudienceCount is how many members q has in all shards, for a preview. Members whose
// session expired and that no walk has met yet are counted, so it is an upper bound
// (by few: sessions live 400 days, and a walk removes what it finds gone).
func (s *Store) AudienceCount(ctx context.Context, q bot.AudienceQuery) (int64, error) {
	if err := q.Validate(); err != nil {
		return 0, fmt.Errorf("redisstore: audience count: %w", err)
	}
	srcs := audienceSources(q)
	cmds := make([]*redis.IntCmd, 0, Shards*len(srcs))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for sh := range Shards {
			for _, src := range srcs {
				cmds = append(cmds, p.ZCard(ctx, s.prefix+":"+tag(sh)+":"+audienceName(src.ch, src.lang, q.Index())))
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redisstore: audience count: %w", err)
	}
	var total int64
	for _, c := range cmds {
		total += c.Val()
	}
	return total, nil
}

// audienceSource is one channel and language of a query: one set per shard.
type audienceSource struct {
	ch   bot.Channel
	lang string
}

// audienceSources are the sets q reads in a shard, in walking order.
func audienceSources(q bot.AudienceQuery) []audienceSource {
	var out []audienceSource
	for _, ch := range bot.AudienceChannels() {
		if q.Channel != "" && ch != q.Channel {
			continue
		}
		for _, lang := range bot.AudienceLangs() {
			if q.Lang == "" || lang == q.Lang {
				out = append(out, audienceSource{ch, lang})
			}
		}
	}
	return out
}

// audiencePos is a place in one set: after the member of that score (set), or its start.
type audiencePos struct {
	score  float64
	member string
	set    bool
}

// audiencePage reads up to n members after pos. done is true when the set has no more.
// Members of one score are ordered by key, so those of pos's score up to its member are
// skipped; when a whole batch is such, the next batch of that score is read.
func (s *Store) audiencePage(ctx context.Context, key string, pos audiencePos, n int) ([]redis.Z, bool, error) {
	from := "-inf"
	if pos.set {
		from = strconv.FormatFloat(pos.score, 'f', -1, 64)
	}
	for offset := int64(0); ; offset += int64(n) {
		zs, err := s.c.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{
			Key: key, Start: from, Stop: "+inf", ByScore: true, Offset: offset, Count: int64(n),
		}).Result()
		if err != nil {
			return nil, false, err
		}
		done := len(zs) < n
		kept := zs[:0]
		for _, z := range zs {
			if pos.set && z.Score == pos.score && z.Member.(string) <= pos.member {
				continue
			}
			kept = append(kept, z)
		}
		if len(kept) > 0 || done {
			return kept, done, nil
		}
	}
}

// liveMembers are the members whose session (for a draft audience: whose draft) still
// exists; the others are removed from the index. A draft audience's members carry
// their draft's title; followers WithoutDrafts are left out when they are in the
// program's draft index too (of the same channel and language: a change of language
// moves both).
func (s *Store) liveMembers(ctx context.Context, shard int, key string, q bot.AudienceQuery, src audienceSource, zs []redis.Z) ([]bot.AudienceMember, error) {
	refs := make([]bot.ConversationRef, 0, len(zs))
	since := make([]time.Time, 0, len(zs))
	for _, z := range zs {
		ref, err := bot.ParseConversationKey(z.Member.(string))
		if err != nil {
			continue // nothing writes such a member
		}
		refs, since = append(refs, ref), append(since, time.UnixMilli(int64(z.Score)))
	}
	exists := make([]*redis.IntCmd, len(refs))
	states := make([]*redis.StringCmd, len(refs))
	drafting := make([]*redis.FloatCmd, len(refs))
	drafts := s.prefix + ":" + tag(shard) + ":" + audienceName(src.ch, src.lang, bot.AudienceQuery{Kind: bot.AudienceDraft, Program: q.Program}.Index())
	cmds, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, ref := range refs {
			k := s.keys(ref)
			if q.Kind == bot.AudienceDraft {
				states[i] = p.Get(ctx, k.state)
				continue
			}
			exists[i] = p.Exists(ctx, k.prof)
			if q.WithoutDrafts {
				drafting[i] = p.ZScore(ctx, drafts, ref.Key())
			}
		}
		return nil
	})
	// A missing state or a follower in no draft answers redis.Nil; anything else is a
	// failure, not a member gone.
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var live []bot.AudienceMember
	var gone []any
	for i, ref := range refs {
		m := bot.AudienceMember{Conversation: ref, Lang: src.lang, Since: since[i]}
		switch {
		case q.Kind == bot.AudienceDraft:
			title, ok := s.draftTitle(states[i])
			if !ok {
				gone = append(gone, ref.Key())
				continue
			}
			m.DraftTitle = title
		case exists[i].Val() != 1:
			gone = append(gone, ref.Key())
			continue
		case q.WithoutDrafts && drafting[i].Err() == nil:
			continue // in the draft audience: told by the personal reminder
		}
		live = append(live, m)
	}
	if len(gone) > 0 {
		// A failure only leaves them for the next walk to find.
		if err := s.c.ZRem(ctx, key, gone...).Err(); err != nil {
			s.log.Warn("dropping expired audience members", "n", len(gone), "err", err)
		}
	}
	return live, nil
}

// draftTitle reads the title of the draft in a session's state as GET gave it; ok is
// false when the state is gone (expired) or holds no draft. A state it cannot read
// (nothing writes one) counts as a draft with no title, so that one such state does
// not stall a broadcast's walk: its owner gets the plain text.
func (s *Store) draftTitle(get *redis.StringCmd) (title string, ok bool) {
	raw, err := get.Result()
	if err != nil { // redis.Nil: the pipeline's other errors were returned before
		return "", false
	}
	var st struct {
		Draft *struct {
			Title string `json:"title"`
		} `json:"draft"`
	}
	if err := unmarshalCompact(raw, &st); err != nil {
		s.log.Warn("a draft owner's state is unreadable; reminded without the title", "err", err)
		return "", true
	}
	if st.Draft == nil {
		return "", false
	}
	return st.Draft.Title, true
}

// formatAudienceCursor is "<channel>|<lang>|<score>|<member>".
func formatAudienceCursor(src audienceSource, pos audiencePos) string {
	return strings.Join([]string{string(src.ch), src.lang, strconv.FormatFloat(pos.score, 'f', -1, 64), pos.member}, "|")
}

// parseAudienceCursor finds where a cursor stands among srcs.
func parseAudienceCursor(cursor string, srcs []audienceSource) (int, audiencePos, error) {
	if cursor == "" {
		return 0, audiencePos{}, nil
	}
	parts := strings.SplitN(cursor, "|", 4)
	if len(parts) != 4 {
		return 0, audiencePos{}, bot.ErrAudienceCursor
	}
	score, err := strconv.ParseFloat(parts[2], 64)
	if err != nil {
		return 0, audiencePos{}, errors.Join(bot.ErrAudienceCursor, err)
	}
	for i, src := range srcs {
		if string(src.ch) == parts[0] && src.lang == parts[1] {
			return i, audiencePos{score: score, member: parts[3], set: true}, nil
		}
	}
	return 0, audiencePos{}, bot.ErrAudienceCursor
}
