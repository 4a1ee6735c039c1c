package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestPrefixCleansUp(t *testing.T) {
	c := Client(t)
	ctx := context.Background()
	var prefix string
	t.Run("writer", func(t *testing.T) {
		prefix = Prefix(t)
		if !strings.HasPrefix(prefix, "skt:") {
			t.Fatalf("Prefix = %q, want skt:…", prefix)
		}
		if other := Prefix(t); other == prefix {
			t.Fatalf("two prefixes are equal: %q", prefix)
		}
		// More keys than one SCAN batch, in many hash slots.
		pipe := c.Pipeline()
		for i := range 1200 {
			pipe.Set(ctx, fmt.Sprintf("%s:{%d}:k", prefix, i), "v", 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	})
	keys, err := Keys(ctx, c, prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("%d keys under %s survived the test's cleanup", len(keys), prefix)
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		url     string
		cluster bool
		wantErr bool
	}{
		{url: "redis://127.0.0.1:6379/0"},
		{url: "redis://127.0.0.1:7000?addr=127.0.0.1:7001", cluster: true},
		{url: "redis://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002", cluster: true},
		{url: "redis+cluster://127.0.0.1:7000", cluster: true},
		{url: "http://nope", wantErr: true},
		{url: "http://nope?addr=x", wantErr: true},
	}
	for _, tt := range tests {
		c, err := open(tt.url)
		if (err != nil) != tt.wantErr {
			t.Errorf("open(%q) error = %v, want error %v", tt.url, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		_, isCluster := c.(*redis.ClusterClient)
		if isCluster != tt.cluster {
			t.Errorf("open(%q): cluster = %v, want %v", tt.url, isCluster, tt.cluster)
		}
		_ = c.Close()
	}
}
