package bolt

import (
	"encoding/binary"
	"time"
)

// record is the decoded form of a stored value: 8 bytes version, 8 bytes
// expiry in Unix nanoseconds (0: never), then the value, all big-endian.
type record struct {
	version uint64
	expires time.Time // zero: never
	value   []byte
}

const headerLen = 16

func encode(r record) []byte {
	b := make([]byte, headerLen+len(r.value))
	binary.BigEndian.PutUint64(b[0:8], r.version)
	binary.BigEndian.PutUint64(b[8:16], uint64(unixNano(r.expires)))
	copy(b[headerLen:], r.value)
	return b
}

// decode parses b, copying the value out of bbolt's memory map so it stays
// valid after the transaction ends.
func decode(b []byte) (record, error) {
	if len(b) < headerLen {
		return record{}, errCorrupt
	}
	r := record{
		version: binary.BigEndian.Uint64(b[0:8]),
		value:   append([]byte{}, b[headerLen:]...),
	}
	if ns := int64(binary.BigEndian.Uint64(b[8:16])); ns != 0 {
		r.expires = time.Unix(0, ns)
	}
	return r, nil
}

func (r record) expired(now time.Time) bool {
	return !r.expires.IsZero() && !now.Before(r.expires)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// expiryKey is the index key for key expiring at t: the expiry first, so a
// cursor walks the index in expiry order.
func expiryKey(t time.Time, key string) []byte {
	b := make([]byte, 8+len(key))
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixNano()))
	copy(b[8:], key)
	return b
}

func splitExpiryKey(b []byte) (time.Time, []byte) {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))), b[8:]
}
