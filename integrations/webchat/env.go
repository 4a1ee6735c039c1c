package webchat

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sangkien/sangkien/envvar"
)

// EnvVars are the WEBCHAT_* variables, in the order help shows them.
var EnvVars = []envvar.Var{
	{Name: "WEBCHAT_ENABLED", Default: "true", Help: "serve the web chat: the page GET /chat, the widget " +
		"GET /webchat/widget.js and its API under /webchat/api/; false turns the channel off"},
	{Name: "WEBCHAT_ORIGINS", Help: "other sites (exact origins such as https://hanoi.gov.vn, comma-separated) " +
		"whose pages may embed the widget and call the web chat API; the gateway's own pages always may"},
	{Name: "WEBCHAT_SECRET", Secret: true, Help: "key that signs web chat tokens; empty: a random key made once " +
		"and kept in Redis (<prefix>:key:webchat), shared by every process"},
	{Name: "WEBCHAT_TOKEN_TTL", Default: "24h", Help: "how long a web chat token works (a browser that comes " +
		"back with a valid one gets a fresh one for the same conversation)"},
}

// Settings are the channel's (WEBCHAT_*).
type Settings struct {
	Enabled bool
	// Origins are the sites, besides the gateway's own, allowed to call the API.
	Origins []string
	// Secret signs tokens; empty: a random key kept in Redis (Setup).
	Secret   string
	TokenTTL time.Duration
}

// ReadSettings reads the variables of EnvVars; errors go to r.
func ReadSettings(r *envvar.Reader) Settings {
	var s Settings
	switch v := r.Get("WEBCHAT_ENABLED"); strings.ToLower(v) {
	case "true", "1", "yes", "on":
		s.Enabled = true
	case "false", "0", "no", "off":
	default:
		r.Fail(fmt.Errorf("WEBCHAT_ENABLED=%q: want true or false", v))
	}
	for _, o := range strings.Split(r.Get("WEBCHAT_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if err := checkOrigin(o); err != nil {
			r.Fail(fmt.Errorf("WEBCHAT_ORIGINS: %q: %w", o, err))
		}
		s.Origins = append(s.Origins, o)
	}
	s.Secret = r.Get("WEBCHAT_SECRET")
	if s.Secret != "" && len(s.Secret) < 16 {
		r.Fail(errors.New("WEBCHAT_SECRET: want at least 16 characters"))
	}
	v := r.Get("WEBCHAT_TOKEN_TTL")
	if d, err := time.ParseDuration(v); err != nil || d < time.Minute {
		r.Fail(fmt.Errorf("WEBCHAT_TOKEN_TTL=%q: want a duration of a minute or more, such as 24h", v))
	} else {
		s.TokenTTL = d
	}
	return s
}

// checkOrigin accepts what a browser sends as Origin: scheme, host and port only.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return err
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("want an http(s) origin such as https://example.vn")
	case u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("want scheme://host[:port] only, no path")
	case strings.ToLower(o) != o:
		return errors.New("want it in lower case, as browsers send it")
	}
	return nil
}
