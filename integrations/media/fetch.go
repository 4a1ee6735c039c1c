package media

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// URLFetcher downloads a file from a URL it resolves from the reference: Telegram's
// getFile (whose URL holds the bot token), or the reference itself (a Zalo file URL).
// The URL never leaves the fetcher: errors carry the network failure or the status only.
type URLFetcher struct {
	// Resolve turns a reference into its download URL.
	Resolve func(ctx context.Context, ref string) (string, error)
	// HTTP downloads; nil means http.DefaultClient (the handler bounds the wait).
	HTTP *http.Client
	// Allow, when set, must accept the resolved URL and every redirect: references that
	// come from citizens' events (Zalo's file URLs) must not point the gateway at
	// another host, let alone at its own network.
	Allow func(*url.URL) bool
}

// Fetch resolves ref and starts the download. See Fetcher.
func (u URLFetcher) Fetch(ctx context.Context, ref string) (*Upstream, error) {
	raw, err := u.Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("resolve file: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, errors.New("download file: the channel gave an unusable URL")
	}
	if u.Allow != nil && !u.Allow(req.URL) {
		return nil, ErrNotFound
	}
	hc := u.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	if u.Allow != nil {
		checked := *hc
		checked.CheckRedirect = func(r *http.Request, via []*http.Request) error {
			if len(via) >= 5 || !u.Allow(r.URL) {
				return errors.New("redirect refused")
			}
			return nil
		}
		hc = &checked
	}
	resp, err := hc.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // *url.Error quotes the URL, token and all
		}
		return nil, fmt.Errorf("download file: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		resp.Body.Close()
		return nil, ErrNotFound
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		resp.Body.Close()
		return nil, fmt.Errorf("download file: the channel answered %d", resp.StatusCode)
	}
	return &Upstream{Body: resp.Body, ContentType: resp.Header.Get("Content-Type"), Length: resp.ContentLength}, nil
}
