package clientaddr

import (
	"net/http/httptest"
	"testing"
)

func TestAddr(t *testing.T) {
	proxies, err := Parse("172.16.0.0/12, 127.0.0.1,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	mapped, err := Parse("::ffff:10.0.0.0/104")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		r      Resolver
		remote string
		xff    []string
		want   string
	}{
		{"no proxy trusted: the header is anyone's", Resolver{}, "198.51.100.7:4242", []string{"203.0.113.9"}, "198.51.100.7"},
		{"an untrusted peer's header is ignored", proxies, "198.51.100.7:4242", []string{"203.0.113.9"}, "198.51.100.7"},
		{"the compose proxy's client", proxies, "172.18.0.5:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a forged hop left of the real one", proxies, "172.18.0.5:5000", []string{"10.9.9.9, 203.0.113.9"}, "203.0.113.9"},
		{"two proxies", proxies, "127.0.0.1:5000", []string{"203.0.113.9, 172.18.0.5"}, "203.0.113.9"},
		{"several header lines", proxies, "127.0.0.1:5000", []string{"203.0.113.9", "172.18.0.5"}, "203.0.113.9"},
		{"a trusted peer without the header", proxies, "172.18.0.5:5000", nil, "172.18.0.5"},
		{"a hop that is no address stops at the proxy", proxies, "172.18.0.5:5000", []string{"203.0.113.9, unknown"}, "172.18.0.5"},
		{"IPv6 peer", Resolver{}, "[2001:db8:1:2::7]:4242", nil, "2001:db8:1:2::7"},
		{"IPv6 behind an IPv6 proxy", proxies, "[fd00::1]:80", []string{"2001:db8::9"}, "2001:db8::9"},
		{"IPv4 in IPv6", Resolver{}, "[::ffff:198.51.100.7]:80", nil, "198.51.100.7"},
		{"a hop written with its port", proxies, "172.18.0.5:5000", []string{"203.0.113.9:5555"}, "203.0.113.9"},
		{"a proxy listed as a mapped network", mapped, "10.1.2.3:80", []string{"203.0.113.9"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/webhooks/telegram", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tt.r.Addr(r).String(); got != tt.want {
				t.Errorf("Addr = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestKey(t *testing.T) {
	r := Resolver{}
	for remote, want := range map[string]string{
		"198.51.100.7:1":           "198.51.100.7",
		"[2001:db8:1:2:a:b:c:d]:1": "2001:db8:1:2::/64",
		"[2001:db8:1:2::ffff]:1":   "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:1":      "2001:db8:1:3::/64",
		"@":                        "unknown",
	} {
		req := httptest.NewRequest("POST", "/", nil)
		req.RemoteAddr = remote
		if got := Key(r.Addr(req)); got != want {
			t.Errorf("Key(%s) = %s, want %s", remote, got, want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, s := range []string{"caddy", "10.0.0.0/33", "10.0.0.1:80"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) took it", s)
		}
	}
	if r, err := Parse(" "); err != nil || len(r.trusted) != 0 {
		t.Errorf("Parse of nothing = %v, %v", r, err)
	}
}
