//go:build faults

package faults

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// intruder is the field manager of out-of-band changes.
const intruder = "faults-intruder"

// drift sets a Deployment's replicas to drifted out of band and returns the
// time from the patch's response until a watch sees Git's value (desired)
// again, or an error after timeout.
func (k *kube) drift(ctx context.Context, ns, name string, desired, drifted int32, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, drifted)
	d, err := k.cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: intruder})
	if err != nil {
		return 0, fmt.Errorf("Deployment/%s/%s: drift: %w", ns, name, err)
	}
	patched := time.Now()
	w, err := k.cs.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + name, ResourceVersion: d.ResourceVersion})
	if err != nil {
		return 0, fmt.Errorf("Deployment/%s/%s: watch: %w", ns, name, err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		dep, ok := ev.Object.(*appsv1.Deployment)
		if ok && ev.Type == watch.Modified && dep.Spec.Replicas != nil && *dep.Spec.Replicas == desired {
			return time.Since(patched), nil
		}
	}
	if ctx.Err() != nil {
		return 0, fmt.Errorf("Deployment/%s/%s: replicas %d not reverted to %d within %s", ns, name, drifted, desired, timeout)
	}
	return 0, errors.New("watch closed")
}

// driftMany drifts each named Deployment in turn, gap apart, and returns
// the revert latencies; a drift not reverted within 30 s fails the test.
func (k *kube) driftMany(t *testing.T, ns string, names []string, desired int32, gap time.Duration) []time.Duration {
	t.Helper()
	var lat []time.Duration
	for i, name := range names {
		d, err := k.drift(t.Context(), ns, name, desired, desired+3+int32(i%5), 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		lat = append(lat, d)
		time.Sleep(gap)
	}
	return lat
}
