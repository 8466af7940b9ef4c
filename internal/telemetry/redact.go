package telemetry

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/switchboard/switchboard/internal/secret"
)

// Redact returns log with every message and every string, error and
// structured field scrubbed by red before it is written, so that no
// configured secret reaches a log, whatever a server echoed into an error.
func Redact(log *zap.Logger, red *secret.Redactor) *zap.Logger {
	return log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return &redactingCore{Core: c, red: red} }))
}

// redactingCore scrubs entries and fields on their way to Core.
type redactingCore struct {
	zapcore.Core
	red *secret.Redactor
}

// With scrubs the fields a child logger carries.
func (c *redactingCore) With(fields []zapcore.Field) zapcore.Core {
	return &redactingCore{Core: c.Core.With(c.scrub(fields)), red: c.red}
}

// Check adds this core (not the wrapped one) so that Write scrubs.
func (c *redactingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write scrubs the message, the stack and the fields, then writes.
func (c *redactingCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	e.Message = c.red.Scrub(e.Message)
	e.Stack = c.red.Scrub(e.Stack)
	return c.Core.Write(e, c.scrub(fields))
}

// scrub returns fields with every text in them scrubbed: strings directly;
// errors, Stringers, byte strings, arrays, objects and reflected values
// through what an encoder would write for them (an error becomes its
// message, and "<key>Verbose" when it has a verbose form).
func (c *redactingCore) scrub(fields []zapcore.Field) []zapcore.Field {
	out := make([]zapcore.Field, 0, len(fields))
	for _, f := range fields {
		switch f.Type {
		case zapcore.StringType:
			f.String = c.red.Scrub(f.String)
		case zapcore.ByteStringType, zapcore.BinaryType, zapcore.StringerType, zapcore.ErrorType,
			zapcore.ArrayMarshalerType, zapcore.ObjectMarshalerType, zapcore.ReflectType:
			enc := zapcore.NewMapObjectEncoder()
			f.AddTo(enc)
			for _, k := range slices.Sorted(maps.Keys(enc.Fields)) {
				out = append(out, zap.Any(k, c.scrubValue(enc.Fields[k])))
			}
			continue
		}
		out = append(out, f)
	}
	return out
}

// scrubValue scrubs every text inside a value a MapObjectEncoder made;
// anything else than a string, a map or a slice (a reflected struct) is
// scrubbed in its JSON encoding.
func (c *redactingCore) scrubValue(v any) any {
	switch v := v.(type) {
	case nil, bool, int64, int32, int, uint64, float64, float32, time.Time, time.Duration:
		return v
	case string:
		return c.red.Scrub(v)
	case []byte:
		return c.red.Scrub(string(v))
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = c.scrubValue(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = c.scrubValue(e)
		}
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return c.red.Scrub(fmt.Sprint(v))
	}
	return json.RawMessage(c.red.Scrub(string(b)))
}
