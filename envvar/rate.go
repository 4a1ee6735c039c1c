package envvar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a limit read from the environment: N sends per Per. The zero Rate is none.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads "30/1s", "30/s", "4000/1m" or "30/1.1s"; "" (or "none") is no rate.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count <= 0 {
		return Rate{}, fmt.Errorf("%q: want a count and a period, e.g. 30/1s", s)
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // "30/s"
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("%q: want a count and a period, e.g. 30/1s", s)
	}
	return Rate{N: count, Per: d}, nil
}

// String is the rate as ParseRate reads it.
func (r Rate) String() string {
	if r.N == 0 {
		return "none"
	}
	return strconv.Itoa(r.N) + "/" + r.Per.String()
}
