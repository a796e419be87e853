package reconcile

import (
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
