//go:build faults

package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// managedNS is the Namespace a bundle of TestNamespaceDeleted manages.
const managedNS = "faults-managed"

// TestNamespaceDeleted: a Namespace that a bundle applies, holding three
// models, is deleted by hand. tether must recreate it and everything in it
// once the namespace controller has emptied it, and touch nothing outside.
func TestNamespaceDeleted(t *testing.T) {
	f := newFixture(t, "faults-namespace")
	r := newResult(t, "managed Namespace deleted by hand",
		fmt.Sprintf("kubectl delete namespace %s: a bundle's Namespace holding 3 models (9 objects); 2 more models and the records live in another namespace", managedNS))
	files := modelFiles("m", 2, 1)
	for i := range 3 {
		name := fmt.Sprintf("n%03d", i)
		files["models/"+name+"/model.yaml"] = inNamespace(modelYAML(name, 1), managedNS)
	}
	files["tether.yaml"] = "bundles: [bundles/platform]\n"
	files["bundles/platform/kustomization.yaml"] = "resources: [namespace.yaml]\n"
	files["bundles/platform/namespace.yaml"] = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + managedNS + "\n"
	head := f.repo.Commit(files)
	t.Cleanup(func() {
		_ = f.k.cs.CoreV1().Namespaces().Delete(context.Background(), managedNS, metav1.DeleteOptions{})
	})
	d := startDaemon(t, f.args("--interval", "10s")...)
	d.reconciled(t, 0, head, 3*time.Minute)
	before := f.converged(t, time.Minute)
	outside := uids{}
	for key, uid := range before {
		if key.Namespace != managedNS && key.Name != managedNS {
			outside[key] = uid
		}
	}

	mark := d.Mark()
	deleted := time.Now()
	f.deleteNamespace(t, managedNS)
	emptied := time.Since(deleted)
	after := f.converged(t, 5*time.Minute)
	back := time.Since(deleted)
	f.account(t, r, outside, time.Minute)
	recreated := 0
	for key, uid := range before {
		if _, in := outside[key]; !in && after[key] != "" && after[key] != uid {
			recreated++
		}
	}
	if recreated != len(before)-len(outside) {
		t.Errorf("%d of %d objects in or of the namespace recreated", recreated, len(before)-len(outside))
	}
	reverted := d.Find(mark, "drift reverted", nil)
	r.tether("recreated the Namespace and all %d objects of it %s after the delete, %s after it was gone (%d drift reverts logged)",
		recreated, back.Round(100*time.Millisecond), (back - emptied).Round(100*time.Millisecond), len(reverted))
	failed := d.Find(mark, "revert failed", nil)
	r.figure("the namespace controller took %s to empty and remove the Namespace; meanwhile %d revert failed lines (each retry of each object refused while the Namespace terminated), %d error lines in all",
		emptied.Round(100*time.Millisecond), len(failed), len(d.errorLines(mark)))
}

// inNamespace sets a model's metadata.namespace.
func inNamespace(model, ns string) string {
	return strings.Replace(model, "metadata: {name: ", "metadata: {namespace: "+ns+", name: ", 1)
}

// deleteNamespace deletes ns and waits until it is gone (the namespace
// controller removed everything in it).
func (f *fixture) deleteNamespace(t *testing.T, ns string) {
	t.Helper()
	err := f.k.cs.CoreV1().Namespaces().Delete(t.Context(), ns, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Minute, "Namespace "+ns+" gone", func() (bool, error) {
		got, err := f.k.cs.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err == nil && got.DeletionTimestamp == nil {
			return true, nil // gone and already created again
		}
		return false, err
	})
}
