package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeLabels are the labels every fake node carries, for node selectors.
var NodeLabels = map[string]string{"type": "kwok"}

// addNodes creates the fake nodes kwok manages and waits until they are
// Ready and schedulable.
func (c *Cluster) addNodes(ctx context.Context) error {
	for i := range c.opts.Nodes {
		node := fakeNode(fmt.Sprintf("kwok-node-%d", i))
		_, err := c.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("Node/%s: create: %w", node.Name, err)
		}
	}
	return c.waitFor(ctx, 60*time.Second, "fake nodes Ready", c.nodesReady)
}

// fakeNode is a node without taints that kwok picks up by annotation.
func fakeNode(name string) *corev1.Node {
	labels := map[string]string{
		"kubernetes.io/hostname": name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     "amd64",
		"kubernetes.io/role":     "agent",
	}
	for k, v := range NodeLabels {
		labels[k] = v
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        name,
		Labels:      labels,
		Annotations: map[string]string{kwokAnnotation: kwokManaged},
	}}
}

// nodesReady holds when every fake node is Ready and the node lifecycle
// controller has lifted the not-ready taint the API server adds on creation,
// so pods can be scheduled.
func (c *Cluster) nodesReady(ctx context.Context) (bool, error) {
	nodes, err := c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err
	}
	ready := 0
	for _, n := range nodes.Items {
		if nodeReady(&n) {
			ready++
		}
	}
	return ready >= c.opts.Nodes, nil
}

func nodeReady(n *corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitServiceAccount waits for the controller manager to create the default
// service account, without which the API server rejects pods in "default".
func (c *Cluster) waitServiceAccount(ctx context.Context) error {
	return c.waitFor(ctx, 30*time.Second, "ServiceAccount/default/default", func(ctx context.Context) (bool, error) {
		_, err := c.client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
}
