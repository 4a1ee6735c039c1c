package redisstore

import (
	"context"
	"time"
)

// A lead is a lease on a fleet-wide duty that one process at a time performs, such as
// turning the programs' reminders into broadcasts: <p>:lease:lead:<name>. The process
// that claims it renews it while it runs; one killed with kill -9 hands the duty on
// when the lease runs out, at most MaxLeasePeriod later.

func (s *Store) leadKey(name string) string { return s.prefix + ":lease:lead:" + name }

// ClaimLead claims the duty name for holder for ttl; false when another process has it.
func (s *Store) ClaimLead(ctx context.Context, name, holder string, ttl time.Duration) (Lease, bool, error) {
	return claimLease(ctx, s.c, s.leadKey(name), holder, ttl)
}

// RenewLead extends a lead its holder still has; false when it is lost.
func (s *Store) RenewLead(ctx context.Context, l Lease, ttl time.Duration) (bool, error) {
	return renewLease(ctx, s.c, l, ttl)
}

// ReleaseLead gives a lead back, so that another process takes the duty on at once.
func (s *Store) ReleaseLead(ctx context.Context, l Lease) error {
	return releaseLease(ctx, s.c, l)
}
