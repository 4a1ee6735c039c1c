package redisurl

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url       string
		wantErr   bool
		wantKind  string // "single", "cluster" or "failover"
		wantAddrs []string
	}{
		{url: "redis://127.0.0.1:6379/0", wantKind: "single", wantAddrs: []string{"127.0.0.1:6379"}},
		{url: "rediss://user:pw@redis.internal:6380/2?dial_timeout=3s", wantKind: "single", wantAddrs: []string{"redis.internal:6380"}},
		{url: "unix:///run/redis.sock", wantKind: "single", wantAddrs: []string{"/run/redis.sock"}},
		{url: "redis://h1:7001,h2:7002,h3:7003", wantKind: "cluster", wantAddrs: []string{"h1:7001", "h2:7002", "h3:7003"}},
		{url: "redis://:pw@h1:7001?addr=h2:7002", wantKind: "cluster", wantAddrs: []string{"h1:7001", "h2:7002"}},
		{url: "redis+cluster://h1:7001", wantKind: "cluster", wantAddrs: []string{"h1:7001"}},
		{url: "rediss+cluster://h1:7001,h2:7002/?dial_timeout=2s", wantKind: "cluster", wantAddrs: []string{"h1:7001", "h2:7002"}},
		{url: "redis+sentinel://:pw@s1:26379,s2:26379/mymaster/1?sentinel_password=sp", wantKind: "failover"},
		{url: "redis+sentinel://s1:26379", wantErr: true},
		{url: "redis+ring://h1:7001", wantErr: true},
		{url: "http://h1", wantErr: true},
		{url: "127.0.0.1:6379", wantErr: true},
		{url: "redis://h1:6379/x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			newClient, err := Parse(tt.url)
			if tt.wantErr {
				if err == nil {
					t.Fatal("parsed, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := newClient()
			defer c.Close()
			var kind string
			var addrs []string
			switch c := c.(type) {
			case *redis.ClusterClient:
				kind, addrs = "cluster", c.Options().Addrs
			case *redis.Client:
				kind, addrs = "single", []string{c.Options().Addr}
				if c.Options().Addr == "FailoverClient" {
					kind, addrs = "failover", nil
				}
			}
			if kind != tt.wantKind || strings.Join(addrs, ",") != strings.Join(tt.wantAddrs, ",") {
				t.Errorf("client %s %v, want %s %v", kind, addrs, tt.wantKind, tt.wantAddrs)
			}
		})
	}
}
