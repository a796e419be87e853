//go:build faults

package faults

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/gitrepo"
)

const image = "registry.example.com/faults@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// modelYAML is a model with training and serving: a Job, a Deployment with
// replicas and a Service.
func modelYAML(name string, replicas int) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: %s}
spec:
  image: %s
  training: {command: [python, train.py], dataset: "s3://data/%s"}
  serving: {port: 8080, replicas: %d}
`, name, image, name, replicas)
}

// modelFiles are n models named prefix000, prefix001, ...
func modelFiles(prefix string, n, replicas int) map[string]string {
	files := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("%s%03d", prefix, i)
		files["models/"+name+"/model.yaml"] = modelYAML(name, replicas)
	}
	return files
}

// fixture is one case's world: a namespace (also the inventory's), a Git
// repository served over HTTP, and victims: objects tether must never touch.
type fixture struct {
	k       *kube
	ns      string
	repo    *gitrepo.Repo
	server  *gitrepo.Server
	victims []objKey
}

// newFixture creates the namespace ns with its victims and an empty
// repository served over HTTP.
func newFixture(t *testing.T, ns string) *fixture {
	t.Helper()
	f := &fixture{k: newKube(t), ns: ns, repo: gitrepo.New(t)}
	f.server = gitrepo.Serve(t, f.repo.Dir)
	f.createNamespace(t, ns)
	f.victims = f.createVictims(t, ns)
	return f
}

// args are the daemon's flags for this fixture, more appended.
func (f *fixture) args(more ...string) []string {
	return append([]string{"--repo", f.server.URL, "--default-namespace", f.ns}, more...)
}

func (f *fixture) createNamespace(t *testing.T, ns string) {
	t.Helper()
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if _, err := f.k.cs.CoreV1().Namespaces().Create(t.Context(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.k.cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
}

// createVictims makes objects in ns that tether did not create and must
// never delete: a plain ConfigMap, a Deployment that looks like tether's
// (its managed-by and model labels) but is in no record, and a Service
// labelled as a member of another ApplySet.
func (f *fixture) createVictims(t *testing.T, ns string) []objKey {
	t.Helper()
	ctx := t.Context()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bystander"}, Data: map[string]string{"k": "v"}}
	labels := map[string]string{"app.kubernetes.io/managed-by": "tether", "tether.dev/model": "m000", "app": "lookalike"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "lookalike", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "lookalike"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "lookalike"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: image}}},
			},
		},
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "other-applyset", Labels: map[string]string{"applyset.kubernetes.io/part-of": "applyset-someone-else-v1"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}
	_, err1 := f.k.cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	_, err2 := f.k.cs.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{})
	_, err3 := f.k.cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return []objKey{{"", "ConfigMap", ns, "bystander"}, {"apps", "Deployment", ns, "lookalike"}, {"", "Service", ns, "other-applyset"}}
}

// expected is what must exist once tether converged on the repository's
// head: everything it renders, and the victims.
func (f *fixture) expected(t *testing.T) []objKey {
	t.Helper()
	return append(rendered(t, f.repo.Dir, f.ns), f.victims...)
}

// converged waits until every expected object exists and returns them.
func (f *fixture) converged(t *testing.T, timeout time.Duration) uids {
	t.Helper()
	want := f.expected(t)
	var got uids
	eventually(t, timeout, "every rendered object and every victim exists", func() (bool, error) {
		var err error
		got, err = f.k.live(t.Context(), want)
		if err != nil {
			return false, err
		}
		if m := missing(want, got); len(m) > 0 {
			return false, fmt.Errorf("%d missing, e.g. %s", len(m), m[0])
		}
		return true, nil
	})
	return got
}

// account checks, once tether converged, that every object that existed
// before the fault and is still expected is the same object (same UID), and
// that every expected object exists; the rest is counted as lost or wrongly
// deleted in r.
func (f *fixture) account(t *testing.T, r *result, before uids, timeout time.Duration) uids {
	t.Helper()
	want := f.expected(t)
	after := f.k.mustLive(t, want)
	deadline := time.Now().Add(timeout)
	for len(missing(want, after)) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		after = f.k.mustLive(t, want)
	}
	kept := uids{}
	for _, key := range want {
		if uid, ok := before[key]; ok {
			kept[key] = uid
		}
	}
	r.lose(t, "lost or wrongly deleted", replaced(kept, after))
	var notCreated []string
	for _, key := range want {
		_, existed := before[key]
		if _, exists := after[key]; !exists && !existed {
			notCreated = append(notCreated, key.String())
		}
	}
	r.lose(t, "rendered but never created", notCreated)
	return after
}

// recordNames are the records of ns, sorted, as one string for messages.
func (f *fixture) recordNames(t *testing.T) string {
	t.Helper()
	return strings.Join(slices.Sorted(slices.Values(f.k.records(t, f.ns))), ", ")
}

// removal is a commit's files that remove the models named, folder and all.
func removal(models ...string) map[string]string {
	out := map[string]string{}
	for _, m := range models {
		out["models/"+m] = ""
	}
	return out
}

// gone waits until no Deployment, Service or Job of model that tether
// labelled as an ApplySet member is left in the namespace.
func (f *fixture) gone(t *testing.T, model string, timeout time.Duration) {
	t.Helper()
	sel := metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/part-of,tether.dev/model=" + model}
	eventually(t, timeout, model+"'s objects pruned", func() (bool, error) {
		deps, err1 := f.k.cs.AppsV1().Deployments(f.ns).List(t.Context(), sel)
		svcs, err2 := f.k.cs.CoreV1().Services(f.ns).List(t.Context(), sel)
		jobs, err3 := f.k.cs.BatchV1().Jobs(f.ns).List(t.Context(), sel)
		if err := errors.Join(err1, err2, err3); err != nil {
			return false, err
		}
		n := len(deps.Items) + len(svcs.Items) + len(jobs.Items)
		return n == 0, fmt.Errorf("%d left", n)
	})
}
