package metrics

import (
	"fmt"
	"net"

	"github.com/sangkien/sangkien/envvar"
)

// EnvVars are the metrics' variables, in the order help shows them.
var EnvVars = []envvar.Var{
	{Name: "METRICS_ADDR", Help: "address of a listener of its own for GET " + Path + " (e.g. 127.0.0.1:9090), " +
		"to keep the metrics off the public listener; empty: GET " + Path + " on HTTP_ADDR"},
}

// Settings are where the metrics are served.
type Settings struct {
	// Addr is the metrics' own listener (METRICS_ADDR); empty: the main one.
	Addr string
}

// ReadSettings reads the variables of EnvVars; errors go to r.
func ReadSettings(r *envvar.Reader) Settings {
	s := Settings{Addr: r.Get("METRICS_ADDR")}
	if s.Addr != "" {
		if _, _, err := net.SplitHostPort(s.Addr); err != nil {
			r.Fail(fmt.Errorf("METRICS_ADDR=%q: want host:port, e.g. 127.0.0.1:9090", s.Addr))
		}
	}
	return s
}
