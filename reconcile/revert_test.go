package reconcile

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const intruder = "intruder"

func (f *fixture) patchDeployment(name, body string) {
	f.t.Helper()
	_, err := f.cs.AppsV1().Deployments(f.ns).Patch(f.ctx, name, types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{FieldManager: intruder})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) scale(name string, replicas int) {
	f.t.Helper()
	f.patchDeployment(name, `{"spec":{"replicas":`+strconv.Itoa(replicas)+`}}`)
}

// strangerDeployment creates a Deployment that looks like tether's (same labels)
// but that tether never applied.
func (f *fixture) strangerDeployment(name string) string {
	f.t.Helper()
	labels := map[string]string{"app.kubernetes.io/managed-by": "tether", "tether.dev/model": "a", "app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "x"}}},
			},
		},
	}
	if _, err := f.cs.AppsV1().Deployments(f.ns).Create(f.ctx, d, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	return name
}

// driftEvent waits for a Drift event with action (reverted, or reported in
// report mode) about object with a change at path.
func (f *fixture) driftEvent(action Action, object, path string) Event {
	f.t.Helper()
	var found Event
	eventually(f.t, 3*time.Second, string(action)+" drift of "+object+" "+path, func() bool {
		for _, ev := range f.drifts(action) {
			if ev.Object == nil || ev.Object.String() != object || ev.Drift == nil {
				continue
			}
			if path == "" && ev.Drift.Deleted {
				found = ev
				return true
			}
			for _, c := range ev.Drift.Changes {
				if c.Path == path {
					found = ev
					return true
				}
			}
		}
		return false
	})
	return found
}

// drifts returns the Drift events with action.
func (f *fixture) drifts(action Action) []Event {
	var out []Event
	for _, ev := range f.eventsOf(EventDrift) {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

func TestDriftIsRevertedWithItsDiffAndManager(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 2)}))
	dep := "Deployment/" + f.ns + "/a"
	tests := []struct {
		name    string
		change  func()
		object  string
		path    string
		desired any
		live    any
		check   func() bool
	}{
		{"replicas", func() { f.scale("a", 5) }, dep, "spec.replicas", int64(2), int64(5), func() bool {
			d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
			return err == nil && *d.Spec.Replicas == 2
		}},
		{"image", func() {
			f.patchDeployment("a", `{"spec":{"template":{"spec":{"containers":[{"name":"serve","image":"evil:1"}]}}}}`)
		}, dep, `spec.template.spec.containers[name="serve"].image`, imgA, "evil:1", func() bool {
			d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
			return err == nil && d.Spec.Template.Spec.Containers[0].Image == imgA
		}},
		{"label", func() { f.patchDeployment("a", `{"metadata":{"labels":{"tether.dev/model":"other"}}}`) }, dep,
			"metadata.labels.tether.dev/model", "a", "other", func() bool {
				d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
				return err == nil && d.Labels["tether.dev/model"] == "a"
			}},
		{"service port", func() {
			_, err := f.cs.CoreV1().Services(f.ns).Patch(f.ctx, "a", types.JSONPatchType,
				[]byte(`[{"op":"replace","path":"/spec/ports/0/targetPort","value":9999}]`), metav1.PatchOptions{FieldManager: intruder})
			if err != nil {
				t.Fatal(err)
			}
		}, "Service/" + f.ns + "/a", `spec.ports[port=80,protocol="TCP"].targetPort`, int64(8080), int64(9999), func() bool {
			s, err := f.cs.CoreV1().Services(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
			return err == nil && s.Spec.Ports[0].TargetPort.IntValue() == 8080
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.change()
			eventually(t, 2*time.Second, "reverted", tt.check)
			ev := f.driftEvent(ActionReverted, tt.object, tt.path)
			if ev.Drift.Manager != intruder || ev.Action != "reverted" || ev.Revision != "rev1" {
				t.Errorf("event manager=%q action=%q revision=%q", ev.Drift.Manager, ev.Action, ev.Revision)
			}
			for _, c := range ev.Drift.Changes {
				if c.Path == tt.path && (c.Desired != tt.desired || c.Live != tt.live) {
					t.Errorf("change %s: %v -> %v, want %v -> %v", c.Path, c.Desired, c.Live, tt.desired, tt.live)
				}
			}
		})
	}
}

func TestDeletedObjectIsRecreated(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1)}))
	if err := f.cs.AppsV1().Deployments(f.ns).Delete(f.ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.driftEvent(ActionReverted, "Deployment/"+f.ns+"/a", "")
	eventually(t, 2*time.Second, "deployment recreated", func() bool {
		d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
		return err == nil && d.DeletionTimestamp == nil
	})
}

func TestReportModeChangesNothing(t *testing.T) {
	f := newFixture(t)
	spec := strings.Replace(servingSpec("a", imgA, 1), "  serving:", "  drift: report\n  serving:", 1)
	f.pass("rev1", f.models(map[string]string{"a": spec}))
	applies := f.requests("apply")
	f.scale("a", 4)
	ev := f.driftEvent(ActionReported, "Deployment/"+f.ns+"/a", "spec.replicas")
	if ev.Action != "reported" {
		t.Errorf("action = %q, want reported", ev.Action)
	}
	time.Sleep(500 * time.Millisecond)
	d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
	if err != nil || *d.Spec.Replicas != 4 {
		t.Errorf("report mode changed the cluster: replicas %v (%v)", d.Spec.Replicas, err)
	}
	if n := f.requests("apply") - applies; n != 0 {
		t.Errorf("report mode sent %d applies", n)
	}
}

// The watch cache keeps a changed object whole only when it sees tether's
// fields differ from the record (the event can race tether's own write). Either
// way the check finds the drift: from the cache without a request, or with one
// GET when only the digest is cached.
func TestDriftCheckWithAndWithoutTheWholeObject(t *testing.T) {
	f := newFixture(t)
	spec := strings.Replace(servingSpec("a", imgA, 2), "  serving:", "  drift: report\n  serving:", 1)
	f.pass("rev1", f.models(map[string]string{"a": spec}))
	key := Key{Group: "apps", Kind: "Deployment", Namespace: f.ns, Name: "a"}
	f.scale("a", 5)
	f.driftEvent(ActionReported, key.String(), "spec.replicas")
	// Stop the watch and the workers: the checks below must be the only ones,
	// and no status update may replace the cached entry under them.
	f.stop()
	lo, ok := f.loop.watcher.live(key)
	if !ok || lo.full.Load() == nil {
		t.Fatal("the cache did not keep the drifted Deployment whole")
	}
	m, _, _ := f.loop.state.lookup(key)
	for _, whole := range []bool{true, false} {
		if !whole {
			lo.full.Store(nil)
		}
		gets := f.requests("get")
		d, err := f.loop.detect(f.ctx, key, m)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil || len(d.Changes) != 1 || d.Changes[0].Path != "spec.replicas" || d.Changes[0].Live != int64(5) || d.Manager != intruder {
			t.Fatalf("whole=%v: drift = %+v, want spec.replicas 2 → 5 by %s", whole, d, intruder)
		}
		if want, got := map[bool]int{true: 0, false: 1}[whole], f.requests("get")-gets; got != want {
			t.Errorf("whole=%v: %d GETs, want %d", whole, got, want)
		}
	}
}

func TestNotDrift(t *testing.T) {
	f := newFixture(t)
	hpa := `apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: h}
spec:
  image: ` + imgA + `
  serving: {port: 8080, autoscaling: {minReplicas: 1, maxReplicas: 5}}
`
	f.pass("rev1", f.models(map[string]string{"h": hpa}))
	eventually(t, 60*time.Second, "deployment available (controllers wrote status)", func() bool {
		d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "h", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == 1
	})
	requests := f.requests("apply") + f.requests("get")
	// the HPA (here: someone acting for it through the scale subresource) sets replicas
	_, err := f.cs.AppsV1().Deployments(f.ns).UpdateScale(f.ctx, "h", scaleTo(f, "h", 3), metav1.UpdateOptions{FieldManager: "horizontal-pod-autoscaler"})
	if err != nil {
		t.Fatal(err)
	}
	f.patchDeployment("h", `{"metadata":{"annotations":{"other-controller/touched":"yes"}}}`)
	time.Sleep(time.Second)
	if n := f.requests("apply") + f.requests("get") - requests; n != 0 {
		t.Errorf("tether sent %d requests for changes to fields it does not own", n)
	}
	if evs := f.eventsOf(EventDrift); len(evs) != 0 {
		t.Errorf("drift reported for fields tether does not set: %+v", evs[0].Drift)
	}
}

func scaleTo(f *fixture, name string, n int32) *autoscalingv1.Scale {
	s, err := f.cs.AppsV1().Deployments(f.ns).GetScale(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	s.Spec.Replicas = n
	return s
}

func TestSuspendedModelIsLeftAlone(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1)}))
	suspended := strings.Replace(servingSpec("a", imgB, 2), "  serving:", "  suspend: true\n  serving:", 1)
	applies := f.requests("apply")
	f.pass("rev2", f.models(map[string]string{"a": suspended}))
	f.scale("a", 6)
	time.Sleep(time.Second)
	d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 6 || d.Spec.Template.Spec.Containers[0].Image != imgA {
		t.Errorf("suspended model changed: replicas %d image %s, want 6 and the old image", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image)
	}
	if n := f.requests("apply") - applies; n != 0 {
		t.Errorf("%d applies for a suspended model", n)
	}
	if st := f.loop.Status().Units[0]; st.State != HealthSuspended {
		t.Errorf("state %s, want Suspended", st.State)
	}
}

// TestUndriftedObjectsStaySummarised: after an apply, the watch cache's digest
// of tether's managedFields entry equals the one recorded, so the cache keeps
// only the summary and a drift check decodes nothing. The Service's ports are
// keyed by number, and 10000 sorts before 9090 as text but after it as a
// number: the digests must not depend on that order.
func TestUndriftedObjectsStaySummarised(t *testing.T) {
	f := newFixture(t)
	svc := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: ports, namespace: %s}
spec:
  selector: {app: ports}
  ports:
  - {name: metrics, port: 10000, targetPort: 10000}
  - {name: http, port: 9090, targetPort: 9090}
`, f.ns)
	res := f.models(map[string]string{"a": servingSpec("a", imgA, 1)})
	res.Units = append(res.Units, bundleUnit(t, "ports", svc))
	f.pass("rev1", res)
	for _, key := range []Key{
		{Kind: "Service", Namespace: f.ns, Name: "ports"},
		{Kind: "Service", Namespace: f.ns, Name: "a"},
		{Group: "apps", Kind: "Deployment", Namespace: f.ns, Name: "a"},
	} {
		m, _, _ := f.loop.state.lookup(key)
		eventually(t, 3*time.Second, key.String()+" cached as a summary with tether's digest", func() bool {
			lo, ok := f.loop.watcher.live(key)
			return ok && m != nil && lo.tether == m.ownedSum && lo.full.Load() == nil
		})
	}
}
