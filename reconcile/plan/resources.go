package plan

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// gpuResource is the extended resource GPUs are requested as.
const gpuResource = corev1.ResourceName("nvidia.com/gpu")

// Usage is what one revision of a unit asks of the cluster. Serving figures
// are per pod times replicas; under a HorizontalPodAutoscaler they range from
// its minimum to its maximum.
type Usage struct {
	Replicas Range `json:"replicas"`
	GPU      Range `json:"gpu"`         // nvidia.com/gpu limits
	CPU      Range `json:"cpuMillis"`   // CPU requests, millicores
	Memory   Range `json:"memoryBytes"` // memory requests
	Training Run   `json:"trainingRun"`
}

// Range is a figure that an autoscaler may move between Min and Max.
type Range struct {
	Min int64 `json:"min"`
	Max int64 `json:"max"`
}

// Run is one training run: every Job and CronJob run of the unit, each pod
// times its parallelism. MaxSeconds is the longest activeDeadlineSeconds
// (0: unbounded).
type Run struct {
	GPU        int64 `json:"gpu"`
	CPU        int64 `json:"cpuMillis"`
	Memory     int64 `json:"memoryBytes"`
	MaxSeconds int64 `json:"maxSeconds,omitempty"`
}

// Change is a unit's usage in the base and in the head revision.
type Change struct {
	Base Usage `json:"base"`
	Head Usage `json:"head"`
}

func (r Range) add(o Range) Range      { return Range{r.Min + o.Min, r.Max + o.Max} }
func (r Range) times(n Range) Range    { return Range{r.Min * n.Min, r.Max * n.Max} }
func fixed(n int64) Range              { return Range{n, n} }
func (r Range) minus(o Range) Range    { return Range{r.Min - o.Min, r.Max - o.Max} }
func (r Range) isZero() bool           { return r.Min == 0 && r.Max == 0 }
func (c Change) changed() bool         { return c.Base != c.Head }
func (u Usage) gpuDelta(o Usage) Range { return o.GPU.minus(u.GPU) }

// add sums two usages; the longest deadline wins.
func (u Usage) add(o Usage) Usage {
	return Usage{
		Replicas: u.Replicas.add(o.Replicas), GPU: u.GPU.add(o.GPU), CPU: u.CPU.add(o.CPU), Memory: u.Memory.add(o.Memory),
		Training: Run{
			GPU: u.Training.GPU + o.Training.GPU, CPU: u.Training.CPU + o.Training.CPU, Memory: u.Training.Memory + o.Training.Memory,
			MaxSeconds: max(u.Training.MaxSeconds, o.Training.MaxSeconds),
		},
	}
}

// add sums two changes.
func (c Change) add(o Change) Change { return Change{c.Base.add(o.Base), c.Head.add(o.Head)} }

// usageOf adds up what objs ask for: Deployments, StatefulSets and
// ReplicaSets serve (replicas, or the range of the autoscaler that targets
// them), Jobs and CronJobs train.
func usageOf(objs []*unstructured.Unstructured) Usage {
	scale := autoscalers(objs)
	var u Usage
	for _, obj := range objs {
		spec, ok := podSpec(obj)
		if !ok {
			continue
		}
		pod := podUsage(spec)
		switch obj.GetKind() {
		case "Job", "CronJob":
			runs := parallelism(obj)
			u.Training.GPU += pod.gpu * runs
			u.Training.CPU += pod.cpu * runs
			u.Training.Memory += pod.memory * runs
			u.Training.MaxSeconds = max(u.Training.MaxSeconds, deadline(obj))
		default:
			n := replicas(obj, scale)
			u.Replicas = u.Replicas.add(n)
			u.GPU = u.GPU.add(fixed(pod.gpu).times(n))
			u.CPU = u.CPU.add(fixed(pod.cpu).times(n))
			u.Memory = u.Memory.add(fixed(pod.memory).times(n))
		}
	}
	return u
}

// podTemplatePaths is where each workload kind keeps its pod spec.
var podTemplatePaths = map[string][]string{
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// podSpec decodes the pod spec of a workload; false for other kinds and for
// DaemonSets (one pod per node: no fixed count to add up) when asked for usage.
func podSpec(obj *unstructured.Unstructured) (*corev1.PodSpec, bool) {
	path, ok := podTemplatePaths[obj.GetKind()]
	if !ok {
		return nil, false
	}
	m, found, _ := unstructured.NestedMap(obj.Object, path...)
	if !found {
		return nil, false
	}
	spec := &corev1.PodSpec{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, spec); err != nil {
		return nil, false
	}
	return spec, obj.GetKind() != "DaemonSet"
}

type podFigures struct{ gpu, cpu, memory int64 }

// podUsage is what one pod asks for, as the scheduler counts it: the sum over
// containers, or the largest init container if that is more.
func podUsage(spec *corev1.PodSpec) podFigures {
	var sum, initMax podFigures
	for _, c := range spec.Containers {
		f := containerUsage(c)
		sum = podFigures{sum.gpu + f.gpu, sum.cpu + f.cpu, sum.memory + f.memory}
	}
	for _, c := range spec.InitContainers {
		f := containerUsage(c)
		initMax = podFigures{max(initMax.gpu, f.gpu), max(initMax.cpu, f.cpu), max(initMax.memory, f.memory)}
	}
	return podFigures{max(sum.gpu, initMax.gpu), max(sum.cpu, initMax.cpu), max(sum.memory, initMax.memory)}
}

func containerUsage(c corev1.Container) podFigures {
	gpu := c.Resources.Limits[gpuResource]
	if gpu.IsZero() {
		gpu = c.Resources.Requests[gpuResource]
	}
	cpu, mem := c.Resources.Requests[corev1.ResourceCPU], c.Resources.Requests[corev1.ResourceMemory]
	return podFigures{gpu: gpu.Value(), cpu: cpu.MilliValue(), memory: mem.Value()}
}

// autoscalers maps "Kind/namespace/name" of each HPA target to its replica range.
func autoscalers(objs []*unstructured.Unstructured) map[string]Range {
	out := map[string]Range{}
	for _, obj := range objs {
		if obj.GetKind() != "HorizontalPodAutoscaler" {
			continue
		}
		kind, _, _ := unstructured.NestedString(obj.Object, "spec", "scaleTargetRef", "kind")
		name, _, _ := unstructured.NestedString(obj.Object, "spec", "scaleTargetRef", "name")
		lo, found, _ := nestedInt(obj.Object, "spec", "minReplicas")
		if !found {
			lo = 1
		}
		hi, _, _ := nestedInt(obj.Object, "spec", "maxReplicas")
		out[kind+"/"+obj.GetNamespace()+"/"+name] = Range{lo, max(hi, lo)}
	}
	return out
}

// replicas is a workload's replica count: its autoscaler's range, else
// spec.replicas (default 1).
func replicas(obj *unstructured.Unstructured, scale map[string]Range) Range {
	if r, ok := scale[obj.GetKind()+"/"+obj.GetNamespace()+"/"+obj.GetName()]; ok {
		return r
	}
	n, found, _ := nestedInt(obj.Object, "spec", "replicas")
	if !found {
		n = 1
	}
	return fixed(n)
}

// parallelism is how many pods one run of a Job or CronJob runs at once.
func parallelism(obj *unstructured.Unstructured) int64 {
	path := []string{"spec", "parallelism"}
	if obj.GetKind() == "CronJob" {
		path = []string{"spec", "jobTemplate", "spec", "parallelism"}
	}
	n, found, _ := nestedInt(obj.Object, path...)
	if !found {
		return 1
	}
	return n
}

func deadline(obj *unstructured.Unstructured) int64 {
	path := []string{"spec", "activeDeadlineSeconds"}
	if obj.GetKind() == "CronJob" {
		path = []string{"spec", "jobTemplate", "spec", "activeDeadlineSeconds"}
	}
	n, _, _ := nestedInt(obj.Object, path...)
	return n
}

// nestedInt reads an integer field however it was decoded: int64 from the
// API machinery, float64 from plain YAML or JSON.
func nestedInt(obj map[string]any, path ...string) (int64, bool, error) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, path...)
	switch n := v.(type) {
	case int64:
		return n, found, err
	case int:
		return int64(n), found, err
	case float64:
		return int64(n), found, err
	}
	return 0, false, err
}

// Quantities as Kubernetes writes them: 500m, 2, 8Gi.
func formatCPU(millis int64) string {
	return resource.NewMilliQuantity(millis, resource.DecimalSI).String()
}
func formatMemory(bytes int64) string {
	return resource.NewQuantity(bytes, resource.BinarySI).String()
}
