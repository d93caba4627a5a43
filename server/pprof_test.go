package main

import (
	"io"
	"log/slog"
	"testing"
)

func TestPprofLoopbackOnly(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		if stop, err := servePprof(addr, logger); err == nil {
			stop()
			t.Errorf("servePprof(%q): no error, want a refusal", addr)
		}
	}
	stop, err := servePprof("127.0.0.1:0", logger)
	if err != nil {
		t.Fatal(err)
	}
	stop()
}
