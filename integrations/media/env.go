package media

import (
	"errors"
	"fmt"
	"time"

	"github.com/sangkien/sangkien/envvar"
)

// EnvVars are the media links' variables, in the order help shows them.
var EnvVars = []envvar.Var{
	{Name: "MEDIA_SECRET", Secret: true, Help: "key that signs the media links (GET /media/{id}) the intake gets for " +
		"attachments; empty: a random key made once and kept in Redis (<prefix>:key:media), shared by every process"},
	{Name: "MEDIA_LINK_TTL", Default: "168h", Help: "how long a media link works"},
}

// Settings are the media links' (MEDIA_*).
type Settings struct {
	// Secret signs media links; empty: a random key kept in Redis (SignerFor).
	Secret string
	TTL    time.Duration
}

// ReadSettings reads the variables of EnvVars; errors go to r.
func ReadSettings(r *envvar.Reader) Settings {
	s := Settings{Secret: r.Get("MEDIA_SECRET")}
	v := r.Get("MEDIA_LINK_TTL")
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.Fail(fmt.Errorf("MEDIA_LINK_TTL=%q: want a positive duration such as 168h", v))
	}
	s.TTL = d
	if s.Secret != "" && len(s.Secret) < 16 {
		r.Fail(errors.New("MEDIA_SECRET: want at least 16 characters"))
	}
	return s
}
