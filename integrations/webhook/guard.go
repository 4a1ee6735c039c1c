package webhook

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sangkien/sangkien/clientaddr"
	"github.com/sangkien/sangkien/envvar"
)

// EnvVars are the settings of the limit on unauthenticated requests, in the order help
// shows them.
var EnvVars = []envvar.Var{
	{Name: "WEBHOOK_AUTH_LIMIT", Default: "20/1m", Help: "requests that fail authentication (a wrong secret or " +
		"signature) one client address (an IPv6 /64) may send to a webhook or the intake callback per period; the " +
		"next ones are answered 429 instead of 401, and counted, not logged. A correctly signed request is never " +
		"refused. none: no limit"},
	{Name: "TRUSTED_PROXIES", Help: "addresses and networks of the proxies in front of the gateway, comma-separated " +
		"(compose: 172.16.0.0/12): only a request from one of them has its client's address read from X-Forwarded-For, " +
		"for the webhooks' limit, the console's login limit and the audit"},
}

// Settings are the limit's: WEBHOOK_AUTH_LIMIT and TRUSTED_PROXIES.
type Settings struct {
	Limit   envvar.Rate
	Proxies clientaddr.Resolver
}

// ReadSettings reads the variables of EnvVars; an error is the reader's, naming its
// variable.
func ReadSettings(r *envvar.Reader) Settings {
	var s Settings
	v := r.Get("WEBHOOK_AUTH_LIMIT")
	if lim, err := envvar.ParseRate(v); err != nil {
		r.Fail(fmt.Errorf("WEBHOOK_AUTH_LIMIT=%q: want a count and a period such as 20/1m, or none", v))
	} else {
		s.Limit = lim
	}
	p, err := clientaddr.Parse(r.Get("TRUSTED_PROXIES"))
	if err != nil {
		r.Fail(fmt.Errorf("TRUSTED_PROXIES: %w", err))
	}
	s.Proxies = p
	return s
}

// GuardConfig configures a Guard.
type GuardConfig struct {
	Settings
	// Count, when set, is told of every request refused for failing authentication,
	// and whether it was answered 429: the metrics' counter.
	Count func(endpoint string, limited bool)
	// Logger gets one summary line per endpoint and Every (a minute).
	Logger *slog.Logger
	Every  time.Duration
	// Now is the clock of the limit's periods (time.Now).
	Now func() time.Time
}

// Guard limits the requests that fail authentication, per client address, on the
// endpoints it wraps. It learns of a failure from the handler's answer: 401, which
// a webhook gives only to a request without the right secret or signature. Once an
// address has failed Limit.N times in a period, its next failures are answered 429
// with Retry-After instead; a correctly signed request from it is served all the
// same, so the limit never hits a provider however many of its addresses share
// a network with an attacker. No refusal is logged on its own: they are counted
// (Count) and summed up in one line per endpoint a minute at most.
//
// Each process counts its own: behind a balancer of n replicas an address fails up to
// n times Limit.N before every replica answers 429.
type Guard struct {
	cfg GuardConfig
	mu  sync.Mutex
	// fails are the failures of each endpoint and address in their current period.
	fails map[string]*failures
	// sums are what each endpoint's next summary line says.
	sums map[string]*summary
}

type failures struct {
	n     int
	since time.Time
}

type summary struct {
	refused, limited int
	addrs            map[string]struct{}
}

// maxTracked bounds the addresses a Guard remembers: past it the periods that ended are
// forgotten, and when none has, every count starts again (a client of that many
// addresses is not one a per-address limit stops).
const maxTracked = 1 << 16

// NewGuard builds a Guard.
func NewGuard(cfg GuardConfig) *Guard {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Guard{cfg: cfg, fails: map[string]*failures{}, sums: map[string]*summary{}}
}

// Wrap guards h, the handler of endpoint (a name for the counter and the summary:
// "telegram", "zalo", "intake callback"). A nil Guard guards nothing.
func (g *Guard) Wrap(endpoint string, h http.Handler) http.Handler {
	if g == nil {
		return h
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&guardWriter{ResponseWriter: rw, g: g, endpoint: endpoint, r: r}, r)
	})
}

// failed counts a failure of addr on endpoint and reports whether it is over the
// limit, and how long until the address's period ends.
func (g *Guard) failed(endpoint, addr string) (bool, time.Duration) {
	now := g.cfg.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	key := endpoint + " " + addr
	f := g.fails[key]
	if f == nil || now.Sub(f.since) >= g.cfg.Limit.Per {
		g.forget(now)
		f = &failures{since: now}
		g.fails[key] = f
	}
	f.n++
	limited := g.cfg.Limit.N > 0 && f.n > g.cfg.Limit.N
	s := g.sums[endpoint]
	if s == nil {
		s = &summary{addrs: map[string]struct{}{}}
		g.sums[endpoint] = s
		time.AfterFunc(g.cfg.Every, func() { g.summarize(endpoint) })
	}
	s.refused++
	if limited {
		s.limited++
	}
	if len(s.addrs) < maxTracked {
		s.addrs[addr] = struct{}{}
	}
	return limited, f.since.Add(g.cfg.Limit.Per).Sub(now)
}

// forget drops the periods that ended once too many are remembered; g.mu is held.
func (g *Guard) forget(now time.Time) {
	if len(g.fails) < maxTracked {
		return
	}
	for k, f := range g.fails {
		if now.Sub(f.since) >= g.cfg.Limit.Per {
			delete(g.fails, k)
		}
	}
	if len(g.fails) >= maxTracked {
		clear(g.fails)
	}
}

// summarize logs the endpoint's refusals since its last line, and starts its next
// period: the next refusal schedules the next line.
func (g *Guard) summarize(endpoint string) {
	g.mu.Lock()
	s := g.sums[endpoint]
	delete(g.sums, endpoint)
	g.mu.Unlock()
	if s == nil {
		return
	}
	g.cfg.Logger.Warn(fmt.Sprintf("refused %d unauthenticated requests from %d addresses in the last %s", s.refused, len(s.addrs), g.cfg.Every),
		"component", "webhook", "endpoint", endpoint, "refused", s.refused, "answered_429", s.limited, "addresses", len(s.addrs))
}

// guardWriter turns a 401 of a limited address into a 429, and counts every 401.
type guardWriter struct {
	http.ResponseWriter
	g        *Guard
	endpoint string
	r        *http.Request
	wrote    bool
	discard  bool // the handler's 401 body, not sent after a 429
}

func (w *guardWriter) WriteHeader(code int) {
	if w.wrote {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.wrote = true
	if code != http.StatusUnauthorized {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	limited, left := w.g.failed(w.endpoint, clientaddr.Key(w.g.cfg.Proxies.Addr(w.r)))
	if w.g.cfg.Count != nil {
		w.g.cfg.Count(w.endpoint, limited)
	}
	if !limited {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(max(1, int((left+time.Second-1)/time.Second))))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Del("Content-Length")
	w.ResponseWriter.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.ResponseWriter.Write([]byte("too many unauthenticated requests\n"))
	w.discard = true
}

func (w *guardWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *guardWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
