package redis

import (
	"context"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// SetMany writes each keys[i] = values[i] as Set does (a new version, the
// ttl), pipelined: one network round trip per node instead of one per key.
// It is for writes no turn waits on (the remembered call language), batched
// by the caller. Each key is written by its own script call, so keys may be
// in different hash slots: on Cluster the pipeline is split by node. The
// writes are not atomic together; the first error is returned.
func (s *Store) SetMany(ctx context.Context, keys []string, values [][]byte, ttl time.Duration) error {
	if len(keys) != len(values) {
		return fmt.Errorf("redis: SetMany with %d keys and %d values", len(keys), len(values))
	}
	ms, err := ttlArg(ctx, ttl)
	if err != nil || len(keys) == 0 {
		return err
	}
	cmds, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			setScript.EvalSha(ctx, p, []string{s.prefix + k}, values[i], ms)
		}
		return nil
	})
	if err == nil {
		return nil
	}
	// A node that has not loaded the script yet (a restart, a new master)
	// answers NOSCRIPT: those keys are written one by one, which loads it.
	for i, c := range cmds {
		if e := c.Err(); e != nil {
			if !strings.HasPrefix(e.Error(), "NOSCRIPT") {
				return mapErr(e)
			}
			if _, e := s.Set(ctx, keys[i], values[i], ttl); e != nil {
				return e
			}
		}
	}
	return nil
}
