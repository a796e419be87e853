package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
)

// client is an admin clientset for the shared cluster.
func client(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cluster.Shared().Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// namespace creates a namespace named after the test and deletes it after.
func namespace(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	name := "t-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

// eventually polls cond until it holds or timeout passes, then fails with
// the last state cond described.
func eventually(t *testing.T, timeout time.Duration, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var state string
	for {
		var ok bool
		if ok, state = cond(ctx); ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not within %s: %s", timeout, state)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
