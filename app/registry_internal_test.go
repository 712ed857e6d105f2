package app

import (
	"reflect"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store/redis"
)

// TestRedisConfigComplete: every store.redis setting an operator can write
// reaches the Redis store, under the same YAML name.
func TestRedisConfigComplete(t *testing.T) {
	acks := 2
	in := config.RedisConfig{Addrs: []string{"a:1"}, MasterName: "m", Username: "u", Password: secret.New("p"),
		DB: 3, TLS: true, AllowPlain: true, CAFile: "/ca", ServerName: "sn", KeyPrefix: "k:", Cluster: true,
		SentinelUsername: "su", SentinelPassword: secret.New("sp"), DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second, PoolSize: 9,
		ReplicaAcks: &acks, ReplicaAckTimeout: time.Millisecond, ReplicaAckGrace: time.Minute}
	out := reflect.ValueOf(redisConfig(in))
	byTag := map[string]reflect.Value{}
	for i := range out.NumField() {
		byTag[out.Type().Field(i).Tag.Get("yaml")] = out.Field(i)
	}
	iv := reflect.ValueOf(in)
	for i := range iv.NumField() {
		f := iv.Type().Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "allow_plain" { // checked by config validation only
			continue
		}
		got, ok := byTag[tag]
		if !ok {
			t.Errorf("store.redis.%s has no counterpart in redis.Config", tag)
			continue
		}
		if iv.Field(i).IsZero() {
			t.Fatalf("test input leaves %s zero", tag)
		}
		if !reflect.DeepEqual(got.Interface(), iv.Field(i).Interface()) {
			t.Errorf("store.redis.%s: %v reaches the store as %v", tag, iv.Field(i), got)
		}
	}
	var _ redis.Config = redisConfig(in)
}
