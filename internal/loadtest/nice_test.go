package loadtest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// boostNice is the nice value bench-load gives the processes it measures
// (serve, the reference, Redis and the generator itself) when it may (as
// root): on a machine shared with builds, CPU 0 was mostly spent on others'
// compilers, and both servers' latency and throughput then measured the
// neighbours. Both servers get the same value, so ratios stay fair.
// LOADTEST_NICE overrides it; 0 leaves priorities alone.
const boostNice = -10

func niceValue() int {
	if v, err := strconv.Atoi(os.Getenv("LOADTEST_NICE")); err == nil {
		return v
	}
	return boostNice
}

// renice sets the nice value of every thread of pid (Linux nice values are
// per thread; threads started later inherit their creator's). It reports
// whether every thread took it.
func renice(pid, nice int) bool {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return false
	}
	ok := true
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice) != nil {
			ok = false
		}
	}
	return ok
}

// redisPID is the process ID Redis reports (INFO server), 0 if none.
func redisPID(rdb *redis.Client) int {
	info, err := rdb.Info(context.Background(), "server").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}
