// Package redis is the shared store.Store for several resetbot instances, on
// Redis (single server, Sentinel or Cluster) through go-redis v9.
//
// A record is one small hash per key, {v: value, n: version}, with PEXPIRE
// for its TTL. Get is one HMGET; CompareAndSwap, Set, Take and Incr are Lua
// scripts, so each is one round trip and atomic on the server. Counters are
// plain integer strings (INCRBY), so Get on a counter key fails (the contract
// says not to mix the two). Only the turn scripts (turn.go) touch more than
// one key; their keys share a {hash tag}, so Cluster serves them too.
//
// Footprint (BenchmarkMemoryPerSession, Redis 7.0): a 300-byte session under a
// 36-byte key takes 568 bytes by MEMORY USAGE, about 670 bytes of used_memory
// with the keyspace and expiry entries; an attempt counter about 130 bytes.
//
// Failures of Redis or the network are returned wrapped in
// store.ErrUnavailable. Plain commands are not retried, because a retried CAS
// or Incr could apply twice; the turn scripts are idempotent per owner and
// are retried across a failover (retry.go).
package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/store"
)

// ACLCommands lists every command the store sends or calls from its scripts,
// in Redis ACL syntax, for a least-privilege user such as
//
//	ACL SETUSER resetbot on >PASSWORD ~resetbot:* resetchannels -@all +ping ...
//
// Redis Cluster clients also need +cluster|slots (or +cluster|shards) and
// +readonly; Sentinel needs nothing extra on the data nodes.
const ACLCommands = "+ping +hmget +evalsha +eval +unlink +pttl " +
	"+hget +hincrby +hset +persist +pexpire +exists +incrby"

// casScript writes ARGV[2] when the version field equals ARGV[1] ("0": the key
// must not exist) and returns the new version, or 0 on conflict. ARGV[3] is the
// ttl in milliseconds, "0" for none.
var casScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'n') or '0'
if cur ~= ARGV[1] then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'v', ARGV[2])
if ARGV[3] == '0' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return n`)

// setScript writes ARGV[1] unconditionally and returns the new version.
var setScript = goredis.NewScript(`
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'v', ARGV[1])
if ARGV[2] == '0' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`)

// takeScript returns {value, version} and deletes the key, or nil.
var takeScript = goredis.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'v', 'n')
if not r[2] then return false end
redis.call('UNLINK', KEYS[1])
return r`)

// incrScript adds ARGV[1]; only a key it creates gets the ttl ARGV[2] (ms).
var incrScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`)

// Store is a store.Store on Redis. Create it with Open or New.
type Store struct {
	c      goredis.UniversalClient
	prefix string
	// acks and ackTimeout configure WAIT after turn commits (0: no WAIT).
	acks       int
	ackTimeout time.Duration
	// ackGrace is how long commits go unacknowledged in a row before they
	// are accepted anyway (see runAcked).
	ackGrace time.Duration
	// retryFor bounds retries of idempotent calls (0: none).
	retryFor time.Duration
	counters
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
)

// New wraps an existing client; every key is prefixed with prefix. The store
// takes ownership: Close closes the client. Configure the client like Open
// does (ContextTimeoutEnabled, MaxRetries -1) for the same guarantees.
func New(client goredis.UniversalClient, prefix string) *Store {
	s := &Store{c: client, prefix: prefix, retryFor: DefaultRetryFor, ackGrace: DefaultReplicaAckGrace}
	client.AddHook(tripCounter{&s.trips})
	return s
}

// Check implements store.Checker with a PING.
func (s *Store) Check(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return errUnavailable(err)
	}
	return nil
}

// Close closes the client and its connections.
func (s *Store) Close() error {
	if err := s.c.Close(); err != nil {
		return errUnavailable(err)
	}
	return nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, errUnavailable(err)
	}
	vals, err := s.c.HMGet(ctx, s.prefix+key, "v", "n").Result()
	if err != nil {
		return store.Record{}, mapErr(err)
	}
	return record(vals)
}

// CompareAndSwap implements store.Store.
func (s *Store) CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error) {
	ms, err := ttlArg(ctx, ttl)
	if err != nil {
		return 0, err
	}
	n, err := casScript.Run(ctx, s.c, []string{s.prefix + key}, strconv.FormatUint(expect, 10), value, ms).Uint64()
	if err != nil {
		return 0, mapErr(err)
	}
	if n == 0 {
		return 0, store.ErrConflict
	}
	return n, nil
}

// Set implements store.Store.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error) {
	ms, err := ttlArg(ctx, ttl)
	if err != nil {
		return 0, err
	}
	n, err := setScript.Run(ctx, s.c, []string{s.prefix + key}, value, ms).Uint64()
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// Take implements store.Store.
func (s *Store) Take(ctx context.Context, key string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, errUnavailable(err)
	}
	vals, err := takeScript.Run(ctx, s.c, []string{s.prefix + key}).Slice()
	if err != nil {
		return store.Record{}, mapErr(err)
	}
	return record(vals)
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return errUnavailable(err)
	}
	return mapErr(s.c.Unlink(ctx, s.prefix+key).Err())
}

// Incr implements store.Store.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	ms, err := ttlArg(ctx, ttl)
	if err != nil {
		return 0, err
	}
	n, err := incrScript.Run(ctx, s.c, []string{s.prefix + key}, delta, ms).Int64()
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// TTL implements store.Store.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, errUnavailable(err)
	}
	ms, err := s.c.Do(ctx, "PTTL", s.prefix+key).Int64()
	switch {
	case err != nil:
		return 0, mapErr(err)
	case ms == -2:
		return 0, store.ErrNotFound
	case ms == -1:
		return 0, nil
	default:
		return time.Duration(ms) * time.Millisecond, nil
	}
}

// record decodes an HMGET-shaped reply {value, version}.
func record(vals []any) (store.Record, error) {
	if len(vals) != 2 || vals[1] == nil {
		return store.Record{}, store.ErrNotFound
	}
	v, okV := vals[0].(string)
	n, okN := vals[1].(string)
	ver, err := strconv.ParseUint(n, 10, 64)
	if !okV || !okN || err != nil {
		return store.Record{}, errUnavailable(errors.New("malformed record"))
	}
	return store.Record{Value: []byte(v), Version: ver}, nil
}

// ttlArg validates ttl and ctx and returns the ttl in whole milliseconds,
// rounded up so a sub-millisecond ttl does not mean "never".
func ttlArg(ctx context.Context, ttl time.Duration) (int64, error) {
	if ttl < 0 {
		return 0, fmt.Errorf("redis: negative ttl %v", ttl)
	}
	if err := ctx.Err(); err != nil {
		return 0, errUnavailable(err)
	}
	return int64((ttl + time.Millisecond - 1) / time.Millisecond), nil
}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.Nil):
		return store.ErrNotFound
	default:
		return errUnavailable(err)
	}
}
