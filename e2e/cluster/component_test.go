package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
)

// TestRestartAPIServer: the same API server comes back on the same port
// with the same data, and the admin client works again without a change.
func TestRestartAPIServer(t *testing.T) {
	c := cluster.Shared()
	cs := client(t)
	uid := createConfigMap(t, cs, namespace(t, cs), "before")
	if err := c.RestartComponent(t.Context(), cluster.APIServer); err != nil {
		t.Fatal(err)
	}
	checkConfigMap(t, cs, uid)
	checkPIDFile(t, c)
}

// TestStopEtcd: while etcd is stopped nothing can be written; once it is
// started again the data written before it stopped is there and writes work.
func TestStopEtcd(t *testing.T) {
	c := cluster.Shared()
	cs := client(t)
	ns := namespace(t, cs)
	uid := createConfigMap(t, cs, ns, "before")
	if err := c.StopComponent(cluster.Etcd); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "during", Namespace: ns}}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err == nil {
		t.Error("a write succeeded while etcd was stopped")
	}
	if err := c.StartComponent(t.Context(), cluster.Etcd); err != nil {
		t.Fatal(err)
	}
	checkConfigMap(t, cs, uid)
	eventually(t, time.Minute, func(ctx context.Context) (bool, string) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after", Namespace: ns}}
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
		return err == nil, "write after etcd came back: " + errString(err)
	})
	checkPIDFile(t, c)
}

func TestComponentUnknown(t *testing.T) {
	c := cluster.Shared()
	if err := c.StopComponent("kubelet"); err == nil || !strings.Contains(err.Error(), "no such component") {
		t.Errorf("StopComponent(kubelet): %v, want no such component", err)
	}
	if err := c.StartComponent(t.Context(), "kubelet"); err == nil || !strings.Contains(err.Error(), "no such component") {
		t.Errorf("StartComponent(kubelet): %v, want no such component", err)
	}
	if err := c.StartComponent(t.Context(), cluster.Scheduler); err != nil {
		t.Errorf("StartComponent of a running component: %v, want nothing done", err)
	}
}

// createConfigMap creates a ConfigMap in ns and returns its UID.
func createConfigMap(t *testing.T, cs kubernetes.Interface, ns, name string) string {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	got, err := cs.CoreV1().ConfigMaps(ns).Create(t.Context(), cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(got.UID)
}

// checkConfigMap finds the ConfigMap with uid again, once the API answers.
func checkConfigMap(t *testing.T, cs kubernetes.Interface, uid string) {
	t.Helper()
	eventually(t, time.Minute, func(ctx context.Context) (bool, string) {
		list, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=before"})
		if err != nil {
			return false, err.Error()
		}
		for _, cm := range list.Items {
			if string(cm.UID) == uid {
				return true, ""
			}
		}
		return false, "ConfigMap with UID " + uid + " not found"
	})
}

// checkPIDFile: every component is listed once, in start order.
func checkPIDFile(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(c.Dir, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		names = append(names, strings.Fields(line)[0])
	}
	want := "etcd kube-apiserver kube-controller-manager kube-scheduler kwok"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("pid file lists %q, want %q", got, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
