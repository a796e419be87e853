package cluster_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tether-ml/tether/e2e/cluster"
)

func TestServerVersion(t *testing.T) {
	v, err := client(t).Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != cluster.KubeVersion {
		t.Errorf("server version %s, want %s", v.GitVersion, cluster.KubeVersion)
	}
}

func TestStartTimes(t *testing.T) {
	c := cluster.Shared()
	t.Logf("time to API ready %s, to nodes Ready %s (state in %s)", c.APIReady, c.Ready, c.Dir)
}

func TestNodesReady(t *testing.T) {
	nodes, err := client(t).CoreV1().Nodes().List(t.Context(), metav1.ListOptions{LabelSelector: "type=kwok"})
	if err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	if len(nodes.Items) != 2 || ready != 2 {
		t.Errorf("%d nodes, %d Ready; want 2 and 2", len(nodes.Items), ready)
	}
}

func TestDeploymentAvailable(t *testing.T) {
	cs := client(t)
	ns := namespace(t, cs)
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels, corev1.RestartPolicyAlways),
		},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(t.Context(), dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func(ctx context.Context) (bool, string) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return hasCondition(d.Status.Conditions, appsv1.DeploymentAvailable) && d.Status.AvailableReplicas == 2,
			fmt.Sprintf("status %+v", d.Status)
	})
}

func TestJobComplete(t *testing.T) {
	cs := client(t)
	ns := namespace(t, cs)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "once"},
		Spec:       batchv1.JobSpec{Template: podTemplate(nil, corev1.RestartPolicyNever)},
	}
	if _, err := cs.BatchV1().Jobs(ns).Create(t.Context(), job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func(ctx context.Context) (bool, string) {
		j, err := cs.BatchV1().Jobs(ns).Get(ctx, "once", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
				return true, ""
			}
		}
		return false, fmt.Sprintf("status %+v", j.Status)
	})
}

func TestRBACEnforced(t *testing.T) {
	cfg := rest.CopyConfig(cluster.Shared().Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "tether-e2e-nobody"}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Pods(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("list pods as an unbound user: err %v, want Forbidden", err)
	}
	if _, err := client(t).CoreV1().Pods(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{}); err != nil {
		t.Errorf("list pods as admin: %v", err)
	}
}

func TestKubectl(t *testing.T) {
	c := cluster.Shared()
	out, err := exec.CommandContext(t.Context(), filepath.Join(c.BinDir, "kubectl"),
		"--kubeconfig", c.Kubeconfig, "get", "nodes", "-o", "name").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get nodes: %v\n%s", err, out)
	}
	if got := strings.Fields(string(out)); len(got) != 2 {
		t.Errorf("kubectl get nodes: %q, want two nodes", got)
	}
}

func podTemplate(labels map[string]string, restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy: restart,
			Containers:    []corev1.Container{{Name: "main", Image: "registry.example/x:1"}},
		},
	}
}

func hasCondition(conds []appsv1.DeploymentCondition, typ appsv1.DeploymentConditionType) bool {
	for _, c := range conds {
		if c.Type == typ && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
