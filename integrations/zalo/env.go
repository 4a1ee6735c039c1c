package zalo

import (
	"fmt"
	"strings"
	"time"

	"github.com/sangkien/sangkien/envvar"
)

// EnvVars are the ZALO_* variables, in the order help shows them.
var EnvVars = []envvar.Var{
	{Name: "ZALO_APP_ID", Help: "Zalo app id (developer console); with ZALO_OA_SECRET it turns the Zalo channel on " +
		"(POST /webhooks/zalo); empty: no Zalo channel"},
	{Name: "ZALO_APP_SECRET", Secret: true, Help: "the Zalo app's secret key: sent as secret_key to refresh access tokens"},
	{Name: "ZALO_OA_SECRET", Secret: true, Help: "the OA secret key that signs webhook events (X-ZEvent-Signature)"},
	{Name: "ZALO_ACCESS_TOKEN", Secret: true, Help: "OA access token from the OA's authorization; with ZALO_REFRESH_TOKEN " +
		"it only seeds an empty token store in Redis, which keeps the pair from then on"},
	{Name: "ZALO_REFRESH_TOKEN", Secret: true, Help: "OA refresh token (single-use, about 3 months), seeds the store with ZALO_ACCESS_TOKEN"},
	{Name: "ZALO_API_BASE", Default: DefaultAPIBase, Help: "base URL of the OA API (a fake one in tests)"},
	{Name: "ZALO_OAUTH_BASE", Default: DefaultOAuthBase, Help: "base URL of Zalo's OAuth endpoint that refreshes tokens"},
	{Name: "ZALO_ZNS_BASE", Default: DefaultZNSBase, Help: "base URL of Zalo's business API, which sends the programs' " +
		"ZNS template messages to Zalo citizens outside the OA's 7-day interaction window"},
	{Name: "ZALO_FILE_HOSTS", Default: strings.Join(DefaultFileHosts(), ","), Help: "hosts (and their subdomains) the media proxy " +
		"may fetch citizens' Zalo files from, over https only"},
	{Name: "ZALO_CHAT_INTERVAL", Default: "1s", Help: "least time between messages to one Zalo citizen (bursts of 3 allowed)"},
}

// ReadSettings reads the ZALO_* variables of EnvVars; errors go to r.
func ReadSettings(r *envvar.Reader) Settings {
	s := Settings{
		AppID:        r.Get("ZALO_APP_ID"),
		AppSecret:    r.Get("ZALO_APP_SECRET"),
		OASecret:     r.Get("ZALO_OA_SECRET"),
		AccessToken:  r.Get("ZALO_ACCESS_TOKEN"),
		RefreshToken: r.Get("ZALO_REFRESH_TOKEN"),
		APIBase:      r.Get("ZALO_API_BASE"),
		OAuthBase:    r.Get("ZALO_OAUTH_BASE"),
		ZNSBase:      r.Get("ZALO_ZNS_BASE"),
		FileHosts:    strings.Split(r.Get("ZALO_FILE_HOSTS"), ","),
	}
	interval := r.Get("ZALO_CHAT_INTERVAL")
	if d, err := time.ParseDuration(interval); err != nil || d < 0 {
		r.Fail(fmt.Errorf("ZALO_CHAT_INTERVAL=%q: want a duration such as 1s", interval))
	} else {
		s.ChatInterval = d
	}
	return s
}
