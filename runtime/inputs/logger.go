package inputs

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/dapr/kit/logger"
)

// kitLogger lets components-contrib log through our slog.Logger.
type kitLogger struct{ l *slog.Logger }

var _ logger.Logger = kitLogger{}

func (k kitLogger) EnableJSONOutput(bool)          {}
func (k kitLogger) SetAppID(string)                {}
func (k kitLogger) SetOutputLevel(logger.LogLevel) {}
func (k kitLogger) SetOutput(io.Writer)            {}
func (k kitLogger) WithLogType(string) logger.Logger {
	return k
}

func (k kitLogger) IsOutputLevelEnabled(level logger.LogLevel) bool {
	l := slog.LevelInfo
	switch level {
	case logger.DebugLevel:
		l = slog.LevelDebug
	case logger.WarnLevel:
		l = slog.LevelWarn
	case logger.ErrorLevel, logger.FatalLevel:
		l = slog.LevelError
	}
	return k.l.Enabled(context.Background(), l)
}

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
func (k kitLogger) Warn(args ...any)                  { k.l.Warn(fmt.Sprint(args...)) }
func (k kitLogger) Warnf(format string, args ...any)  { k.l.Warn(fmt.Sprintf(format, args...)) }
func (k kitLogger) Error(args ...any)                 { k.l.Error(fmt.Sprint(args...)) }
func (k kitLogger) Errorf(format string, args ...any) { k.l.Error(fmt.Sprintf(format, args...)) }

// Fatal logs at error level: a component must not end our process.
func (k kitLogger) Fatal(args ...any)                 { k.l.Error(fmt.Sprint(args...)) }
func (k kitLogger) Fatalf(format string, args ...any) { k.l.Error(fmt.Sprintf(format, args...)) }
