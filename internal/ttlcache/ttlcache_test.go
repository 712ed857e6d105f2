package ttlcache

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Unix(0, 0)
	c := New[string](time.Minute, 2, func() time.Time { return now })
	c.Put("a", "1")
	if v, ok := c.Get("a"); !ok || v != "1" {
		t.Fatalf("get a = %q %v", v, ok)
	}
	c.Update("a", func(v *string) { *v = "2" })
	c.Update("missing", func(v *string) { t.Fatal("updated a missing key") })
	if v, _ := c.Get("a"); v != "2" {
		t.Fatalf("after update %q", v)
	}
	now = now.Add(61 * time.Second)
	if _, ok := c.Get("a"); ok {
		t.Fatal("expired entry returned")
	}
	c.Put("b", "x")
	c.Put("c", "y") // full (a expired but still held): cleared first
	if _, ok := c.Get("b"); ok {
		t.Fatal("a full cache was not cleared")
	}
	if v, ok := c.Get("c"); !ok || v != "y" {
		t.Fatalf("c = %q %v", v, ok)
	}
}
