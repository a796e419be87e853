package reconcile

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of the loop and the drift worker.
type Metrics struct {
	reconcileDuration prometheus.Histogram
	objects           *prometheus.CounterVec // by kind and result: applied, unchanged, pruned
	pruneBlockedTotal prometheus.Counter
	unitStates        *prometheus.GaugeVec
	revisionInfo      *prometheus.GaugeVec
	events            *prometheus.CounterVec
	driftEvents       *prometheus.CounterVec
	revertLatency     prometheus.Histogram
	apiRequests       *prometheus.CounterVec
	recordsIgnored    *prometheus.GaugeVec
	syncBlockedUnits  *prometheus.GaugeVec
}

// NewMetrics creates the collectors and registers them on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reconcileDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tether_reconcile_duration_seconds",
			Help: "Time to reconcile one revision.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_objects_total",
			Help: "Objects handled by result: applied, unchanged, pruned."}, []string{"kind", "result"}),
		pruneBlockedTotal: prometheus.NewCounter(prometheus.CounterOpts{Name: "tether_prune_blocked_total",
			Help: "Passes whose pruning the mass-deletion guard held back."}),
		unitStates: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tether_model_state",
			Help: "1 for the current state of each model or bundle."}, []string{"model", "state"}),
		revisionInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tether_last_applied_revision_info",
			Help: "The last revision reconciled."}, []string{"revision"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_events_total",
			Help: "Events emitted by type."}, []string{"type"}),
		driftEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_drift_events_total",
			Help: "Drift detected, by model, kind and action."}, []string{"model", "kind", "action"}),
		revertLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tether_drift_revert_seconds",
			Help: "From the drifted object reaching tether to the revert being written.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_api_requests_total",
			Help: "Requests tether sent to the API server, by verb."}, []string{"verb"}),
		recordsIgnored: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tether_inventory_records_ignored",
			Help: "Inventory records left alone at start: of other instances (foreign) or unreadable (invalid)."}, []string{"reason"}),
		syncBlockedUnits: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tether_sync_blocked",
			Help: "1 while a sync window holds a model's (or bundle's) new revision back."}, []string{"model"}),
	}
	if reg != nil {
		reg.MustRegister(m.reconcileDuration, m.objects, m.pruneBlockedTotal, m.unitStates, m.revisionInfo,
			m.events, m.driftEvents, m.revertLatency, m.apiRequests, m.recordsIgnored, m.syncBlockedUnits)
	}
	return m
}

func (m *Metrics) observeReconcile(revision string, d time.Duration) {
	m.reconcileDuration.Observe(d.Seconds())
	m.revisionInfo.Reset()
	m.revisionInfo.WithLabelValues(revision).Set(1)
}

func (m *Metrics) objectApplied(kind string)   { m.objects.WithLabelValues(kind, "applied").Inc() }
func (m *Metrics) objectUnchanged(kind string) { m.objects.WithLabelValues(kind, "unchanged").Inc() }
func (m *Metrics) objectPruned(kind string)    { m.objects.WithLabelValues(kind, "pruned").Inc() }
func (m *Metrics) pruneBlocked()               { m.pruneBlockedTotal.Inc() }

func (m *Metrics) unitState(unit string, h Health) {
	for _, s := range []Health{HealthReady, HealthProgressing, HealthSuspended, HealthFailed, HealthInvalid} {
		v := 0.0
		if s == h {
			v = 1
		}
		m.unitStates.WithLabelValues(unit, string(s)).Set(v)
	}
}

func (m *Metrics) observeEvent(ev Event) {
	m.events.WithLabelValues(string(ev.Type)).Inc()
	if ev.Type == EventDrift && ev.Drift != nil {
		m.driftEvents.WithLabelValues(ev.Unit, ev.Drift.Object.Kind, string(ev.Action)).Inc()
	}
}

func (m *Metrics) records(foreign, invalid int) {
	m.recordsIgnored.WithLabelValues("foreign").Set(float64(foreign))
	m.recordsIgnored.WithLabelValues("invalid").Set(float64(invalid))
}

func (m *Metrics) syncBlocked(unit string, held bool) {
	v := 0.0
	if held {
		v = 1
	}
	m.syncBlockedUnits.WithLabelValues(unit).Set(v)
}

func (m *Metrics) observeRevert(d time.Duration) { m.revertLatency.Observe(d.Seconds()) }

// CountRequests wraps a client transport so every API request is counted by verb
// (get, list, watch, apply, dry-run, delete, ...). Use it with rest.Config.Wrap.
func (m *Metrics) CountRequests(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		m.apiRequests.WithLabelValues(verbOf(req)).Inc()
		return rt.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// verbOf names a request the way API server audit logs do, near enough.
func verbOf(req *http.Request) string {
	q := req.URL.Query()
	if len(q["dryRun"]) > 0 {
		return "dryrun"
	}
	switch req.Method {
	case http.MethodGet:
		switch resourcePath := resourceParts(req.URL); {
		case resourcePath == nil:
			return "discovery"
		case q.Get("watch") == "true" || q.Get("watch") == "1":
			return "watch"
		case isCollection(resourcePath):
			return "list"
		}
		return "get"
	case http.MethodPatch:
		if req.Header.Get("Content-Type") == "application/apply-patch+yaml" {
			return "apply"
		}
		return "patch"
	}
	return strings.ToLower(req.Method)
}

// resourceParts strips /api/v1 or /apis/<group>/<version> from a path; nil
// means a discovery request (no resource named).
func resourceParts(u *url.URL) []string {
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	switch {
	case len(parts) > 2 && parts[0] == "api":
		return parts[2:]
	case len(parts) > 3 && parts[0] == "apis":
		return parts[3:]
	}
	return nil
}

// isCollection: namespaces/x/pods and nodes are lists, namespaces/x/pods/y and
// namespaces/x are gets.
func isCollection(parts []string) bool {
	if len(parts) > 2 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	return len(parts)%2 == 1
}
