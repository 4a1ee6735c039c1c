// Package redisstore keeps all of the engine's state in Redis: sessions, transcripts,
// event dedupe, conversation locks, the per-channel delivery queues and the submission
// outbox. It implements bot.Store and bot.Outboxes (a worker's bot.Outbox) on a redis.UniversalClient, so the same
// code runs on a single server, behind Sentinel, or on Redis Cluster.
//
// # Shards
//
// One event's commit writes the session, appends to the channel's delivery queue and
// (for a confirmed submission) to the outbox in one Lua script. On a cluster every key a
// script touches must live in one hash slot, so the hash tag cannot be the conversation
// (the queues are shared); it is a shard:
//
//	shard = crc32.ChecksumIEEE(conv.Key()) % 32, tag "{sNN}" (two digits, "{s07}")
//
// Shards (32) must never change: a conversation would move to another shard and lose
// its session, its lock and its dedupe markers, and queue entries would be stranded in
// streams no consumer reads. 32 tags spread well over clusters of up to a few dozen
// masters; consumers read all 32 streams with one pipeline.
//
// # Keys
//
// <p> is Options.Prefix ("sk"), <conv> is bot.ConversationRef.Key() ("tg:12345").
//
//	key                              type    owner (writer)           TTL
//	<p>:{sNN}:prof:<conv>            string  Commit (JSON Profile,    ProfileTTL (400 days), refreshed by every commit
//	                                         compacted: compact.go)
//	<p>:{sNN}:state:<conv>           string  Commit (JSON State,      DraftTTL (30 days) after the last message
//	                                         compacted)
//	<p>:{sNN}:lock:<conv>            string  Begin/Commit/Release     the lease ttl given to Begin
//	<p>:{sNN}:seen:<conv>            zset    Commit (member: event    DedupeTTL (24 hours) after the last event;
//	                                         id; score: handled, unix  a commit drops members older than it
//	                                         s; dedupe.go)             (every few events: dedupe.go)
//	<p>:{sNN}:seen:<conv>:<event>    string  Commit ("1") with        DedupeTTL: the marker of versions before
//	                                         Options.LegacyFormat      the set, still refused by Begin
//	                                         (upgrade.go)
//	<p>:{sNN}:tr:<conv>              list    Commit (binary records,  TranscriptTTL (90 days), last 1000 entries
//	                                         transcript.go)
//	<p>:{phr}:txt                    hash    registerScript (field:   none: the phrases transcripts refer to, the
//	                                         phrase number; the        catalog's and programs' fixed texts, never
//	                                         phrase, transcript.go)    a citizen's words; numbers never change
//	<p>:{sNN}:out:<channel>          stream  Commit (field m: JSON    none: a queue; the channel's sender deletes
//	                                         Outbound)                 what it delivered (XACK + XDEL)
//	<p>:{sNN}:bulk:<channel>         stream  QueueBulk (field m: JSON none: a queue, as out:<channel>; its own
//	                                         Outbound)                 senders, leases (lease:bulk:<channel>) and
//	                                                                   members (members:bulk:<channel>)
//	<p>:{sNN}:outbox                 stream  Commit (fields s: JSON   none: a queue; Ack deletes what the intake
//	                                         Submission, id)           received (XACK + XDEL); a store with
//	                                                                   Options.Outbox "chat" uses outbox:chat
//	                                                                   (and lease:outbox:chat:<id>) instead
//	<p>:{sNN}:lease:outbox:<id>      string  Claim/Hold (lease token: a Lease (the worker's Idle, at most 15s) on
//	                                         consumer/random/<id>)     one outbox entry (<id>: its stream id),
//	                                                                   renewed by its holder every third of it;
//	                                                                   Ack, Postpone, Fail check it (fencing) and
//	                                                                   delete it
//	<p>:{sNN}:card:<conv>            hash    Commit (the inbox's card: ProfileTTL, refreshed by every commit;
//	                                         status, assignee, clocks, deleted by a Forget
//	                                         last message, desk.go;
//	                                         only fields with a value)
//	<p>:{sNN}:desk:<status>          zset    Commit (member: conv;    none: a conversation is in the index of its
//	                                         score: waiting since,     status (waiting, open, resolved) only; the
//	                                         last activity, resolve)   inbox drops members whose card expired
//	<p>:{sNN}:desk:of:<email>        zset    Commit (member: conv;    none: the unresolved conversations assigned
//	                                         score: last activity)     to one member of staff
//	<p>:{sNN}:aud:<channel>:<lang>:  zset    Commit (member: conv;    none: a conversation is in an index while
//	  all | news | prog:<program> |          score: when it joined,    it belongs (bot/audience.go: reachable;
//	  draft:<program>                        ms; audience.go)          subscribed; following the program; with a
//	                                                                   draft in it); Commit removes it when it
//	                                                                   leaves and from all on Forget; Audience
//	                                                                   drops members whose session (for draft:,
//	                                                                   whose state) expired
//	<p>:bc:<id>                      hash    SaveBroadcast (b: JSON   none: a broadcast's record
//	                                         bot.Broadcast; state)
//	<p>:bc:list                      zset    SaveBroadcast (member:   none: the broadcasts, by creation
//	                                         id; score: created ms)
//	<p>:{sNN}:bc:<id>                hash    QueueBroadcast (cursor,  BroadcastKeep (30 days) from the last page:
//	                                         done, queued), a bulk    the shard's fan-out and its counts
//	                                         Sender (sent, failed,
//	                                         skip:<reason>)
//	<p>:{sNN}:bc:<id>:to             set     QueueBroadcast (convs)   BroadcastKeep: who was given it, once each
//	<p>:{sNN}:bc:<id>:tried          set     a bulk Sender's Attempt  BroadcastKeep: who a sender tried it on,
//	                                         (convs)                  so that no crash sends it twice
//	<p>:{sNN}:lease:bc:<id>          string  ClaimBroadcastShard      a Lease (15s): the process fanning out
//	                                                                   the shard
//	<p>:{sNN}:stats:<day>            hash    Commit (HINCRBY: the     StatsTTL (400 days), set when a counter
//	                                         event's bot.Tally; fields is first counted: the reports' counters
//	                                         new/active/msg:<channel>, of one day in the city (stats.go); Report
//	                                         sub:<channel>:<kind>,     reads days × shards with one pipeline
//	                                         prog:<program>:<kind>,
//	                                         field:<program>:<field>,
//	                                         step:<program>:<step>)
//	<p>:{sNN}:stats:<day>:took       list    Commit ("<kind> <secs>": StatsTTL; the newest StatsSamplesMax
//	                                         draft start to submit)    (5,000) a shard and day, for the median
//	<p>:{sNN}:stats:<day>:answers    list    Commit ("<waiting ms>    StatsTTL; the newest StatsSamplesMax:
//	                                         <answered ms>": a first   within target is judged at report time
//	                                         staff answer)             with the console's calendar
//	<p>:refseq:<prefix>:<year>       string  NextReference (INCR)     none: reference codes must never repeat,
//	                                                                   and a year's counter is a few bytes
//	<p>:{sNN}:lease:out:<channel>    string  a Sender (lease token:   a Lease (15s), renewed by its holder every
//	                                         process name/random)      third of it, deleted on a clean stop: which
//	                                                                   process sends the shard's replies; Ack and
//	                                                                   Fail check it (fencing)
//	<p>:{sNN}:failed:<channel>       stream  a Sender's Fail (field   none: capped at about FailedMax (10,000)
//	                                         f: JSON DeliveryFailure)  records, the oldest dropped first
//	<p>:{sNN}:dlv:<conv>             hash    a Sender's Ack and Fail  TranscriptTTL, from the last reply finished:
//	                                         of a tracked reply (field: what became of the console's replies (a
//	                                         outbound id; JSON         tracked one not in it is still queued); no
//	                                         DeliveryState)            text, so a Forget leaves it to expire
//	<p>:members:out:<channel>        zset    a Sender's heartbeats    twice the heartbeat ttl: the live senders;
//	                                         (member: process name)    Close removes a sender that stops cleanly
//	<p>:rl:{<key>}                   zset    Delivery.Reserve         the window plus a second: sends of the
//	                                                                   last window, for a limit all processes share
//	<p>:rl:{<key>}:pause             string  Delivery.Pause           the provider's retry_after: the limit held
//	                                                                   in every process after a bulk 429
//	<p>:{sNN}:intake:retry           hash    Postpone (field: sub id, none: Ack, Fail and RetryFailed delete
//	                                         JSON DeliveryAttempts)    the field when the submission leaves
//	<p>:{sNN}:intake:failed          hash    Fail (field: sub id,     none: kept until an operator retries it
//	                                         JSON SubmissionFailure)
//	<p>:{sNN}:intake:dead            hash    claim (field: stream id, none: outbox entries nobody can read, kept
//	                                         JSON DeadEntry)           for an operator to look into
//	<p>:intake:sub:<id>              string  Index (JSON              none: the intake may call back years
//	                                         IndexedSubmission)        later; about 150 bytes a submission
//	<p>:intake:ref:<reference>       string  Index (submission id)    none, as above
//	<p>:key:<name>                   string  SharedKey (hex key)      none: signs links that must keep working
//	                                                                   across processes and restarts (media)
//	<p>:zalo:token:<app id>          string  ZaloTokens (JSON token   none: holds the only valid refresh token
//	                                         pair, by integrations/zalo)
//	<p>:zalo:lock:<app id>           string  ZaloTokens.Lock/Unlock   a Lease (15s): one token refresh at a time
//	                                         (lease token)
//	<p>:web:{<conv>}:replies         stream  WebReplies.Append        the stream's TTL (WEBCHAT_TOKEN_TTL) after its
//	                                         (field m: JSON reply)     last entry, capped: what a web chat browser
//	                                                                   has still to read, or may read again
//	<p>:web:{<conv>}:sent            set     WebReplies.Append        as the stream: reply ids appended, so a
//	                                         (reply ids)               reply the queue sends again is kept once
//	<p>:web:{<conv>}:file:<id>       hash    WebFiles.Put (d: bytes,  37 days (webchat.FileTTL): a draft's 30 days
//	                                         t: type, n: name)         and the intake's week of media links after
//	<p>:web:{<conv>}:files           set     WebFiles.Put (file ids)  as its files: what an erasure (Commit with
//	                                                                   Forget) deletes with the replies and sent
//	<p>:{sNN}:album:<conv>:<group>   hash    Albums.Add (field: part  AlbumTTL (1 hour) after the last part; Done
//	                                         id, the part; "" once     keeps handed-over fields as "", so a part
//	                                         handed over: Albums.Done) Telegram delivers again is not run again
//	<p>:{sNN}:albums:due             zset    Albums.Add/Due/Done      none: Done removes each album it hands
//	                                         (member: album key,       over; an album whose key expired is
//	                                         score: due or lease end)  removed by the sweeper that finds it gone
//	<p>:{sNN}:lease:album:<conv>:<group>     Albums.Due/Done          a Lease (15s) of the album's claimer, taken
//	                 string                  (lease token)             over by the next claimer; Done checks it
//	<p>:{inbox:<name>}:bodies        hash    Inbox.Put (field: body   none: the runner's done, fenced by the
//	                                         id, raw webhook body)     lease, deletes what it ran (inbox.go)
//	<p>:{inbox:<name>}:lease:<id>    string  Inbox.Put/Takeover       a Lease (15s): who runs the body; taken
//	                                         (lease token)             over by Takeover once it ran out
//	<p>:{staff}:acct:<email>         hash    Staff.Add/Disable/        none: the account (name, role, disabled,
//	                                         SetPassword/NewToken      bcrypt hash, SHA-256 of its token)
//	<p>:{staff}:accts                set     Staff.Add (emails)        none
//	<p>:{staff}:tok:<sha256>         string  Staff.NewToken (email)    none: dropped when replaced or on Disable
//	<p>:{staff}:sess:<id>            hash    Staff.NewSession/Session  the idle timeout (8h), extended by each use,
//	                                         (email, csrf, times,      never past the absolute end (12h after login)
//	                                         password time)
//	<p>:{staff}:sessof:<email>       set     Staff.NewSession (ids)    the absolute timeout after the last login;
//	                                                                   DeleteSession removes its id, a login prunes
//	                                                                   the ids of sessions that timed out
//	<p>:{staff}:fail:acct:<email>    string  Staff.LoginAttempt        the failure window (15 min) from the first;
//	                                         (attempts)                LoginSucceeded deletes it
//	<p>:{staff}:fail:addr:<host>     string  Staff.LoginAttempt        the same; LoginSucceeded takes back its one
//	                                         (attempts; IPv6 per /64)  attempt
//	<p>:{staff}:fail:refused:<host>  string  Staff.FirstRefusal (1)    the failure window: the first refusal for the
//	                                                                   limit from an address is audited, no other
//	<p>:desk:changed                 pub/sub Commit (PUBLISH conv)    -: a hint to the consoles' live pages that a
//	                                                                   conversation changed (DeskChanges)
//	<p>:audit                        stream  Audit.Record (field e:   Audit Retention (2 years): each XADD trims
//	                                         JSON AuditEntry; id:      older ids (MINID ~); List skips leftovers
//	                                         the entry's At ms)
//	<p>:canned                       hash    Canned.Put/Delete        none: the console's canned answers
//	                                         (field: id, JSON
//	                                         CannedAnswer)
//	<p>:holidays                     hash    Holidays.Put/Delete      none: admins' edits of the working-day
//	                                         (field: date, "off|work   calendar, laid over the holidays file;
//	                                         <name>" or "normal")      consoles re-read it every 30 s
//	<p>:programs                     hash    ProgramEdits.Put/Delete  none: admins' edits of the programs, laid
//	                                         (field: program id, JSON  over the programs file; each process
//	                                         programs.Edit)            re-reads it every 30 s (programs.Live)
//
// Staff keys share one hash tag, {staff}: a few hundred accounts fit one slot, and each
// change to an account, its token and its sessions is one script on a cluster too.
//
// The retry schedules and the failed list live in the outbox's shard, so that a
// submission moves between them and the outbox in one transaction on a cluster too. The
// index of submissions is global: callbacks name a submission, not a conversation.
//
// The queues have no TTL and are not trimmed: an expiry or a MAXLEN would silently drop
// replies or submissions nobody delivered yet. The outbox is read by consumer group
// "intake"; groups are created lazily by the consumers (XGROUP CREATE … MKSTREAM from
// id 0, so entries written before the group existed are delivered too). The group's
// pending list only finds unfinished entries; who works on one is its lease's business.
//
// # Leases
//
// Whoever in the fleet does a piece of work holds a Lease (lease.go): a string key
// holding the claim's token (holder name and a random part), with the lease period,
// at most MaxLeasePeriod (15 s), as its TTL. Claimed with SET NX, renewed and released
// only by the token's holder, and the token is the fencing token: the scripts that
// acknowledge work check it in the same step. A process killed with kill -9 holds its
// work for one lease period at most; one stopped cleanly releases it at once.
//
// An outbox entry is claimed under a Lease of its own (<p>:{sNN}:lease:outbox:<id>, in
// the entry's shard, so that the fencing check and Ack, Postpone or Fail are one
// script on a cluster too). A claim looks, per shard in one script, at the pending
// entries left alone for the claimer's lease period (claims and renewals reset an
// entry's idle time, Postpone sets it to the entry's schedule), takes an entry only if
// SET NX takes its free lease, and only then moves it to the claimer (XCLAIM): a live
// holder never loses an entry, and a dead one's entries are taken over once their
// leases ran out, one lease period after its last renewal. New entries (XREADGROUP)
// are leased as they are read.
//
// # Round trips
//
// Begin and Commit are one Lua script each (EVALSHA, with EVAL when the server does not
// have the script yet): a typical event costs two round trips. RoundTrips counts them.
package redisstore
