package cluster_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tether-ml/tether/e2e/cluster"
)

// TestAuditLogsWrites: every write shows in the audit log with the client's
// user agent; reads do not.
func TestAuditLogsWrites(t *testing.T) {
	c := cluster.Shared()
	cfg := rest.CopyConfig(c.Config)
	cfg.UserAgent = "audit-test/1"
	cs := kubernetes.NewForConfigOrDie(cfg)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "audited", Namespace: "default"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(t.Context(), "audited", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		writes, err := c.Writes()
		if err != nil {
			t.Fatal(err)
		}
		var ours []cluster.Write
		for _, w := range writes {
			if w.UserAgent == "audit-test/1" {
				ours = append(ours, w)
			}
		}
		if len(ours) == 1 && ours[0].Verb == "create" && ours[0].Object.Name == "audited" && ours[0].Code == 201 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit log has %+v for the test's user agent, want one create of ConfigMap audited", ours)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
