package logging

import (
	"log/slog"
	"strings"
)

// ParseLevel maps a configured level name (debug, info, warn, error) to a
// slog level; anything else is info.
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
