package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// podPaths is where each workload kind keeps its pod spec, and where the
// number of pods it runs at once (default 1) is.
var podPaths = map[string]struct{ spec, count []string }{
	"Deployment":  {[]string{"spec", "template", "spec"}, []string{"spec", "replicas"}},
	"StatefulSet": {[]string{"spec", "template", "spec"}, []string{"spec", "replicas"}},
	"ReplicaSet":  {[]string{"spec", "template", "spec"}, []string{"spec", "replicas"}},
	"DaemonSet":   {[]string{"spec", "template", "spec"}, nil},
	"Job":         {[]string{"spec", "template", "spec"}, []string{"spec", "parallelism"}},
	"CronJob":     {[]string{"spec", "jobTemplate", "spec", "template", "spec"}, []string{"spec", "jobTemplate", "spec", "parallelism"}},
}

// podGPUs is how many GPUs (nvidia.com/gpu) the workloads among objs ask
// for at once, as the scheduler counts a pod (its containers' sum, or its
// largest init container if that is more) times the pods of each workload.
// A DaemonSet counts one pod: a preview cannot know the nodes.
func podGPUs(objs []*unstructured.Unstructured) int {
	total := int64(0)
	for _, o := range objs {
		paths, ok := podPaths[o.GetKind()]
		if !ok {
			continue
		}
		m, found, _ := unstructured.NestedMap(o.Object, paths.spec...)
		spec := &corev1.PodSpec{}
		if !found || runtime.DefaultUnstructuredConverter.FromUnstructured(m, spec) != nil {
			continue
		}
		pods := int64(1)
		if n, found, _ := unstructured.NestedInt64(o.Object, paths.count...); found && paths.count != nil {
			pods = n
		}
		total += podGPU(spec) * pods
	}
	return int(total)
}

// podGPU is one pod's GPUs: limits, or requests where no limit is set.
func podGPU(spec *corev1.PodSpec) int64 {
	gpus := func(c corev1.Container) int64 {
		q, ok := c.Resources.Limits[gpuResource]
		if !ok {
			q = c.Resources.Requests[gpuResource]
		}
		return q.Value()
	}
	var sum, init int64
	for _, c := range spec.Containers {
		sum += gpus(c)
	}
	for _, c := range spec.InitContainers {
		init = max(init, gpus(c))
	}
	return max(sum, init)
}
