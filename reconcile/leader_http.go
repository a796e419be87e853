package reconcile

import (
	"encoding/json"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// Identity names a replica for leader election: its name and the address
// standbys forward webhooks to, as name@host:port.
func Identity(name, advertise string) string { return name + "@" + advertise }

// leaderAddress is the address part of an identity, "" when it has none.
func leaderAddress(identity string) string {
	_, addr, ok := strings.Cut(identity, "@")
	if !ok {
		return ""
	}
	return addr
}

// Leading reports whether this replica holds the Lease (as last observed).
func (l *Leadership) Leading() bool { return l.elector.IsLeader() }

// Forward serves requests with local on the leader; a standby forwards them
// to the leader's address, so that a push webhook reaching any replica wakes
// the one that writes. The leader checks the signature.
func (l *Leadership) Forward(local http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.Leading() {
			local.ServeHTTP(w, r)
			return
		}
		addr := leaderAddress(l.Leader())
		if addr == "" {
			http.Error(w, "no leader yet", http.StatusServiceUnavailable)
			return
		}
		proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: "http", Host: addr})
			pr.SetXForwarded()
		}}
		proxy.ServeHTTP(w, r)
	})
}

// StandbyStatus is what a standby serves on /status.
type StandbyStatus struct {
	Instance string `json:"instance"`
	Standby  bool   `json:"standby"`
	Leader   string `json:"leader,omitempty"`
}

// StatusHandler serves local's /status on the leader and who leads on a
// standby.
func (l *Leadership) StatusHandler(instance string, local http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.Leading() {
			local.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(StandbyStatus{Instance: instance, Standby: true, Leader: l.Leader()})
	})
}
