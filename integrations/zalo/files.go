package zalo

import (
	"context"
	"net/url"
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// DefaultFileHosts returns the domains of Zalo's file servers: a citizen's file
// reference (payload.url) must be an https URL on one of them, or a subdomain. Each call
// returns a fresh slice, so no caller can change another's list.
func DefaultFileHosts() []string { return []string{"zdn.vn", "zadn.vn", "zalo.me", "zaloapp.com"} }

// FileURLs resolves an attachment's reference to its download URL, for the media proxy.
// A Zalo attachment's reference is the payload.url of its event: a link to Zalo's file
// servers that needs no token, so it is its own download URL. The reference comes from
// an event, so only https URLs on hosts (or subdomains of hosts) listed in hosts are
// given back: nobody can point the proxy at another server, or at the gateway's own
// network.
type FileURLs struct {
	Hosts []string
}

// Resolve returns ref when it is an allowed file URL. Any other reference is a file
// the channel does not have: a permanent *bot.SendError, which the media proxy answers
// 404 (asking again cannot help, and nothing upstream failed).
func (f FileURLs) Resolve(_ context.Context, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil || !f.Allowed(u) {
		return "", &bot.SendError{Failure: bot.Permanent, Detail: "zalo file reference is not an https URL on Zalo's file servers"}
	}
	return ref, nil
}

// Allowed reports whether u is an https URL on an allowed host (also checked on every
// redirect of a download).
func (f FileURLs) Allowed(u *url.URL) bool {
	if u.Scheme != "https" || u.User != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range f.Hosts {
		h = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "."))
		if h != "" && (host == h || strings.HasSuffix(host, "."+h)) {
			return true
		}
	}
	return false
}
