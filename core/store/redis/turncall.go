package redis

import (
	"context"
	"errors"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/store"
)

// turnScript is a turn script with its source, for the EVAL fallback when
// the server does not have it cached (a restart, a new master).
type turnScript struct {
	src    string
	sha    string
	script *goredis.Script
}

func newTurnScript(src string) *turnScript {
	s := goredis.NewScript(src)
	return &turnScript{src: src, sha: s.Hash(), script: s}
}

// turnCall is the command line of one turn script call, EVALSHA sha numkeys
// keys... args..., built in one allocation: go-redis writes *string,
// *int64 and *uint64 arguments as their values, so the arguments point into the call's
// own fields instead of each string and number being boxed apart (about ten
// allocations per call). The keys are one string, sliced. The argument list
// lives in the call too (smallCall, commitCall: sized for the script).
//
// A call is only read after it is built: retries send it again as it is.
type turnCall struct {
	args  []any
	keys  [3]string
	owner string
	nums  [3]int64
	n     int // nums used
	// expect is the commit's expected version (written as unsigned).
	expect uint64
}

type smallCall struct {
	turnCall
	buf [3 + 3 + 2]any
}

type commitCall struct {
	turnCall
	buf [3 + 3 + 9]any
}

// committedKeep is the commit's last argument, boxed once.
var committedKeep any = store.CommittedKeep.Milliseconds()

// newTurnCall starts the call of sc on the keys of k under the store's
// prefix, with the owner as first argument; the others follow with num and
// arg. commit sizes it for the commit script.
func (s *Store) newTurnCall(sc *turnScript, k store.TurnKeys, commit bool) *turnCall {
	var c *turnCall
	if commit {
		big := &commitCall{}
		c = &big.turnCall
		c.args = big.buf[:0]
	} else {
		small := &smallCall{}
		c = &small.turnCall
		c.args = small.buf[:0]
	}
	nk := 2
	if k.Delivery != "" {
		nk = 3
	}
	names := [3]string{k.Session, k.Lock, k.Delivery}
	var b strings.Builder
	b.Grow(nk*len(s.prefix) + len(k.Session) + len(k.Lock) + len(k.Delivery))
	for _, key := range names[:nk] {
		b.WriteString(s.prefix)
		b.WriteString(key)
	}
	all := b.String()
	for i, key := range names[:nk] {
		n := len(s.prefix) + len(key)
		c.keys[i], all = all[:n], all[n:]
	}
	c.args = append(c.args, "evalsha", &sc.sha, nk)
	for i := range nk {
		c.args = append(c.args, &c.keys[i])
	}
	c.owner = k.Owner
	c.args = append(c.args, &c.owner)
	return c
}

// num appends an integer argument, written in decimal.
func (c *turnCall) num(v int64) *turnCall {
	c.nums[c.n] = v
	c.args = append(c.args, &c.nums[c.n])
	c.n++
	return c
}

// arg appends an argument as it is: a []byte, a constant, a small integer,
// a value boxed once.
func (c *turnCall) arg(v any) *turnCall {
	c.args = append(c.args, v)
	return c
}

// cmd is the call as a go-redis command, its first key at position 3 (so a
// cluster client routes it by the session's slot, as Script.Run does).
func (c *turnCall) cmd(ctx context.Context) *goredis.Cmd {
	cmd := goredis.NewCmd(ctx, c.args...)
	cmd.SetFirstKeyPos(3)
	return cmd
}

// run sends the call as Script.Run would: EVALSHA, then EVAL with the source
// when the server has not cached the script.
func (c *turnCall) run(ctx context.Context, cl goredis.UniversalClient, sc *turnScript) *goredis.Cmd {
	cmd := c.cmd(ctx)
	_ = cl.Process(ctx, cmd)
	if err := cmd.Err(); err != nil && (errors.Is(err, goredis.ErrNoScript) || goredis.HasErrorPrefix(err, "NOSCRIPT")) {
		args := append([]any{"eval", sc.src}, c.args[2:]...)
		cmd = goredis.NewCmd(ctx, args...)
		cmd.SetFirstKeyPos(3)
		_ = cl.Process(ctx, cmd)
	}
	return cmd
}
