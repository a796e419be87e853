//go:build faults

package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/tether-ml/tether/e2e/cluster"
)

// objKey names one object.
type objKey struct{ Group, Kind, Namespace, Name string }

func (k objKey) String() string {
	kind := k.Kind
	if k.Group != "" {
		kind += "." + k.Group
	}
	if k.Namespace == "" {
		return kind + "/" + k.Name
	}
	return kind + "/" + k.Namespace + "/" + k.Name
}

func keyOf(u *unstructured.Unstructured) objKey {
	gvk := u.GroupVersionKind()
	return objKey{gvk.Group, gvk.Kind, u.GetNamespace(), u.GetName()}
}

// uids maps objects to their UID: who they are, so one deleted and created
// again is told apart from one that stayed.
type uids map[objKey]string

// kube is the admin view of the shared cluster the cases check with.
type kube struct {
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func newKube(t *testing.T) *kube {
	t.Helper()
	cfg := cluster.Shared().Config
	cs, err1 := kubernetes.NewForConfig(cfg)
	dyn, err2 := dynamic.NewForConfig(cfg)
	dc, err3 := discovery.NewDiscoveryClientForConfig(cfg)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	return &kube{cs: cs, dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

// resource finds the resource of a kind.
func (k *kube) resource(key objKey) (schema.GroupVersionResource, error) {
	m, err := k.mapper.RESTMapping(schema.GroupKind{Group: key.Group, Kind: key.Kind})
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	return m.Resource, nil
}

// live lists the objects of keys' kinds in keys' namespaces and returns the
// UID of each key that exists. A key whose object is being deleted counts
// as gone.
func (k *kube) live(ctx context.Context, keys []objKey) (uids, error) {
	type scope struct {
		gvr schema.GroupVersionResource
		ns  string
	}
	scopes := map[scope]bool{}
	for _, key := range keys {
		gvr, err := k.resource(key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		scopes[scope{gvr, key.Namespace}] = true
	}
	all := uids{}
	for s := range scopes {
		list, err := k.dyn.Resource(s.gvr).Namespace(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			if list.Items[i].GetDeletionTimestamp() == nil {
				all[keyOf(&list.Items[i])] = string(list.Items[i].GetUID())
			}
		}
	}
	found := uids{}
	for _, key := range keys {
		if uid, ok := all[key]; ok {
			found[key] = uid
		}
	}
	return found, nil
}

// mustLive is live that fails the test on an error.
func (k *kube) mustLive(t *testing.T, keys []objKey) uids {
	t.Helper()
	got, err := k.live(t.Context(), keys)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// missing returns the keys without an object in got.
func missing(keys []objKey, got uids) []string {
	var out []string
	for _, key := range keys {
		if _, ok := got[key]; !ok {
			out = append(out, key.String())
		}
	}
	return out
}

// replaced returns the keys of before whose object is gone from after or is
// another object (deleted and created again): lost, unless the case is
// about that.
func replaced(before, after uids) []string {
	var out []string
	for _, key := range slices.SortedFunc(maps.Keys(before), func(a, b objKey) int { return strings.Compare(a.String(), b.String()) }) {
		switch uid, ok := after[key]; {
		case !ok:
			out = append(out, key.String()+" (gone)")
		case uid != before[key]:
			out = append(out, key.String()+" (deleted and created again)")
		}
	}
	return out
}

// rendered is what tether renders for the repository in dir: the objects
// every case expects to find once tether converged.
func rendered(t *testing.T, dir, namespace string) []objKey {
	t.Helper()
	cmd := exec.Command(tetherBin, "render", dir, "--default-namespace", namespace)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tether render: %v\n%s", err, stderr.String())
	}
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	var keys []objKey
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return keys
		} else if err != nil {
			t.Fatalf("tether render: %v", err)
		}
		if len(u.Object) > 0 {
			keys = append(keys, keyOf(&u))
		}
	}
}

// records lists the names of tether's inventory records in ns.
func (k *kube) records(t *testing.T, ns string) []string {
	t.Helper()
	list, err := k.cs.CoreV1().ConfigMaps(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "tether.dev/instance"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cm := range list.Items {
		names = append(names, cm.Name)
	}
	return names
}

// deployment reads one Deployment's replicas and revision annotation.
func (k *kube) deployment(ctx context.Context, ns, name string) (replicas int32, revision string, err error) {
	d, err := k.cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, "", err
	}
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	return replicas, d.Annotations["tether.dev/revision"], nil
}
