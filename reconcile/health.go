package reconcile

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Health is the state of an object or, rolled up, of a unit.
type Health string

// Health values, worst last.
const (
	HealthReady       Health = "Ready"
	HealthProgressing Health = "Progressing"
	HealthSuspended   Health = "Suspended"
	HealthFailed      Health = "Failed"
	HealthInvalid     Health = "Invalid"
)

// ObjectHealth computes an object's health with kstatus, from the object alone.
// A missing object is Progressing: tether is (re)creating it.
func ObjectHealth(u *unstructured.Unstructured) Health {
	if u == nil {
		return HealthProgressing
	}
	res, err := status.Compute(u)
	if err != nil {
		return HealthProgressing
	}
	switch res.Status {
	case status.CurrentStatus:
		return HealthReady
	case status.FailedStatus:
		return HealthFailed
	}
	return HealthProgressing
}

// Rollup is the health of a unit: Failed if any object failed, Progressing if
// any is not yet ready, Ready otherwise.
func Rollup(objects []Health) Health {
	out := HealthReady
	for _, h := range objects {
		switch {
		case h == HealthFailed:
			return HealthFailed
		case h == HealthProgressing:
			out = HealthProgressing
		}
	}
	return out
}

// health rolls up every unit's objects from the watch cache (no API requests).
func (l *Loop) health(ctx context.Context, p *pass) bool {
	for _, name := range l.state.unitNames() {
		l.refreshHealth(name)
	}
	return true
}

// objectHealthChanged rolls up the unit of an object whose health the watch
// saw change, so /status and the unit state metric follow the cluster between
// passes (a Deployment becoming available, a training Job finishing).
func (l *Loop) objectHealthChanged(key Key) {
	if m, _, _ := l.state.lookup(key); m != nil {
		l.refreshHealth(m.unit)
	}
}

func (l *Loop) refreshHealth(name string) {
	h := l.unitHealth(name)
	if l.state.setHealth(name, h) {
		l.cfg.Metrics.unitState(name, h)
	}
}

// unitHealth is Invalid or Suspended when the unit says so, else the rollup of
// its desired objects' health.
func (l *Loop) unitHealth(name string) Health {
	st, _ := l.state.unit(name)
	switch {
	case st.suspend:
		return HealthSuspended
	case st.health == HealthInvalid && st.lastError != "":
		return HealthInvalid
	}
	var hs []Health
	for _, m := range l.state.memberList(name) {
		if m.body == nil {
			continue
		}
		h := HealthProgressing // missing: tether is (re)creating it
		if live, ok := l.watcher.live(m.key); ok {
			h = live.health
		}
		hs = append(hs, h)
	}
	return Rollup(hs)
}
