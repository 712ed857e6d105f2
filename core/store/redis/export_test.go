package redis

import goredis "github.com/redis/go-redis/v9"

// AddHook lets tests count the commands a store sends.
func AddHook(s *Store, h goredis.Hook) { s.c.AddHook(h) }

// Options exposes the go-redis options a Config produces.
func Options(c Config) (*goredis.UniversalOptions, error) { return c.options() }

// AcquireSHA is the digest the acquire script runs under.
func AcquireSHA() string { return acquireScript.sha }
