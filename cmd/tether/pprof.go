package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// pprofEnv names a loopback address on which any tether command serves Go's
// profiles (/debug/pprof/), for the heap profiles in docs/BENCHMARKS.md
// (go run ./e2e/bench -pprof). It is an environment variable, not a flag:
// users don't need it, and it stays off the daemon's own listener.
const pprofEnv = "TETHER_DEBUG_PPROF"

func init() {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(os.Stderr, "tether: %s=%q ignored: want a loopback host:port\n", pprofEnv, addr)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() { _ = http.ListenAndServe(addr, mux) }() //nolint:gosec // loopback only, for profiling
}
