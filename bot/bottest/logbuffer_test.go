package bottest

import (
	"strings"
	"sync"
	"testing"
)

func TestLogBufferTakesConcurrentWriters(t *testing.T) {
	var b LogBuffer
	log := b.Logger()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { log.Debug("line", "n", i) })
	}
	wg.Wait()
	if n := strings.Count(b.String(), "msg=line"); n != 8 {
		t.Errorf("%d lines kept, want 8:\n%s", n, b.String())
	}
}
