package main

import (
	"io"
	"log/slog"
	"os"

	"k8s.io/klog/v2"
)

// newLogger builds the slog logger: JSON for --log-format json (and, with auto,
// whenever stderr is not a terminal, as in a cluster), text otherwise. klog
// (client-go's logger) is bridged to the same handler.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("run: --log-level %q: expected debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "auto":
		if isTerminal(w) {
			h = slog.NewTextHandler(w, opts)
		} else {
			h = slog.NewJSONHandler(w, opts)
		}
	default:
		return nil, usagef("run: --log-format %q: expected auto, text or json", format)
	}
	logger := slog.New(h)
	klog.SetSlogLogger(logger.With("component", "client-go"))
	return logger, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
