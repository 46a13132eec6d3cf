// Package kitlog lets Dapr's components-contrib components, which log
// through dapr/kit's logger, log through a *slog.Logger.
package kitlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/dapr/kit/logger"
)

// kitLogger is a dapr/kit logger.Logger writing to an slog.Logger.
type kitLogger struct {
	l *slog.Logger
}

// New returns a dapr/kit logger that writes to l: Fatal logs at error
// level (a component must not end the process), and output settings are
// l's, not the component's.
func New(l *slog.Logger) logger.Logger { return kitLogger{l: l} }

func (k kitLogger) EnableJSONOutput(bool)          {}
func (k kitLogger) SetAppID(string)                {}
func (k kitLogger) SetOutputLevel(logger.LogLevel) {}
func (k kitLogger) SetOutput(io.Writer)            {}

func (k kitLogger) IsOutputLevelEnabled(level logger.LogLevel) bool {
	return k.l.Enabled(context.Background(), toSlog(level))
}

func (k kitLogger) WithLogType(string) logger.Logger { return k }

func (k kitLogger) WithFields(fields map[string]any) logger.Logger {
	args := make([]any, 0, 2*len(fields))
	for key, v := range fields {
		args = append(args, key, v)
	}
	return kitLogger{l: k.l.With(args...)}
}

func (k kitLogger) Info(args ...any)                  { k.l.Info(fmt.Sprint(args...)) }
func (k kitLogger) Infof(format string, args ...any)  { k.l.Info(fmt.Sprintf(format, args...)) }
func (k kitLogger) Debug(args ...any)                 { k.l.Debug(fmt.Sprint(args...)) }
func (k kitLogger) Debugf(format string, args ...any) { k.l.Debug(fmt.Sprintf(format, args...)) }
func (k kitLogger) Warn(args ...any)                  { k.warn(fmt.Sprint(args...)) }
func (k kitLogger) Warnf(format string, args ...any)  { k.warn(fmt.Sprintf(format, args...)) }

// warn logs at warn level, except the jetstream component's report that it
// could not unsubscribe from a connection it is itself draining on Close:
// that is a normal shutdown, not something for the user to act on.
func (k kitLogger) warn(msg string) {
	if strings.Contains(msg, "unsubscribing") && strings.Contains(msg, "connection draining") {
		k.l.Debug(msg)
		return
	}
	k.l.Warn(msg)
}
func (k kitLogger) Error(args ...any)                 { k.l.Error(fmt.Sprint(args...)) }
func (k kitLogger) Errorf(format string, args ...any) { k.l.Error(fmt.Sprintf(format, args...)) }

// Fatal logs at error level: a component must not end our process.
func (k kitLogger) Fatal(args ...any)                 { k.l.Error(fmt.Sprint(args...)) }
func (k kitLogger) Fatalf(format string, args ...any) { k.l.Error(fmt.Sprintf(format, args...)) }

func toSlog(level logger.LogLevel) slog.Level {
	switch level {
	case logger.DebugLevel:
		return slog.LevelDebug
	case logger.WarnLevel:
		return slog.LevelWarn
	case logger.ErrorLevel, logger.FatalLevel:
		return slog.LevelError
	}
	return slog.LevelInfo
}
