package reconcile

import "context"

// health rolls up every unit's objects from the watch cache (no API requests).
func (l *Loop) health(_ context.Context, _ *pass) (bool, error) {
	for _, name := range l.state.unitNames() {
		l.refreshHealth(name)
	}
	return false, nil
}

// refreshHealthOf rolls up the unit of an object the watch saw change, so
// /status and the unit state metric follow the cluster between passes (a
// Deployment becoming available, a training Job finishing).
func (l *Loop) refreshHealthOf(key Key) {
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
