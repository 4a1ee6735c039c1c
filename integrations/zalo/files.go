package zalo

import (
	"context"
	"errors"
	"net/url"
)

// FileURL resolves an attachment's reference to its download URL, for the media proxy.
// A Zalo attachment's reference is the payload.url of its event: a link to Zalo's file
// servers that needs no token, so it is its own download URL. Only absolute http(s)
// URLs are given back: a reference is signed into media links by the gateway, but a
// check here keeps a stray one from pointing the proxy at a local file.
func FileURL(_ context.Context, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("zalo file reference is not an http(s) URL")
	}
	return ref, nil
}
