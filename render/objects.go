package render

import (
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Container names inside the rendered pod templates.
const (
	trainContainer = "train"
	serveContainer = "serve"
	gpuResource    = corev1.ResourceName("nvidia.com/gpu")
)

// trainingJobSpec is the Job spec shared by the one-off Job and the CronJob template.
func trainingJobSpec(m *Model) batchv1.JobSpec {
	t := m.Spec.Training
	env := envVars(t.Env, "MODEL_URI", m.Spec.ModelURI, "DATASET_URI", t.Dataset)
	return batchv1.JobSpec{
		BackoffLimit:          t.BackoffLimit,
		ActiveDeadlineSeconds: t.ActiveDeadlineSeconds,
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: podLabels(m, ComponentTraining)},
			Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{
					Name: trainContainer, Image: m.Spec.Image,
					Command: t.Command, Args: t.Args, Env: env,
					Resources: resources(t.Resources),
				}},
			},
		},
	}
}

// trainingJob is one content-addressed run. It carries keepRuns as an annotation
// so reconcile can retain finished runs without reading model specs.
func trainingJob(m *Model, source string) *batchv1.Job {
	meta := objectMeta(m, TrainingJobName(m), ComponentTraining, source)
	meta.Annotations[AnnotationKeepRuns] = strconv.Itoa(int(keepRuns(m)))
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta,
		Spec:       trainingJobSpec(m),
	}
}

func trainingCronJob(m *Model, source string) *batchv1.CronJob {
	keep := keepRuns(m)
	return &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: objectMeta(m, m.Metadata.Name+"-train", ComponentTraining, source),
		Spec: batchv1.CronJobSpec{
			Schedule:                   m.Spec.Training.Schedule,
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: &keep,
			FailedJobsHistoryLimit:     &keep,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels(m, ComponentTraining)},
				Spec:       trainingJobSpec(m),
			},
		},
	}
}

func keepRuns(m *Model) int32 {
	if k := m.Spec.Training.KeepRuns; k != nil {
		return *k
	}
	return defaultKeepRuns
}

func servingPort(m *Model) int32 {
	if p := m.Spec.Serving.Port; p != nil {
		return *p
	}
	return defaultPort
}

func deployment(m *Model, source string) *appsv1.Deployment {
	s := m.Spec.Serving
	port := servingPort(m)
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(m, m.Metadata.Name, ComponentServing, source),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(m, ComponentServing)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels(m, ComponentServing)},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: serveContainer, Image: m.Spec.Image,
					Command: s.Command, Args: s.Args,
					Env:            envVars(s.Env, "MODEL_URI", m.Spec.ModelURI),
					Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
					Resources:      resources(s.Resources),
					ReadinessProbe: readinessProbe(s.ReadinessPath, port),
				}}},
			},
		},
	}
	if s.Autoscaling == nil {
		replicas := int32(1)
		if s.Replicas != nil {
			replicas = *s.Replicas
		}
		d.Spec.Replicas = &replicas
	}
	return d
}

func readinessProbe(path string, port int32) *corev1.Probe {
	target := intstr.FromInt32(port)
	if path == "" {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: target}}}
	}
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: target}}}
}

func service(m *Model, source string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(m, m.Metadata.Name, ComponentServing, source),
		Spec: corev1.ServiceSpec{
			Selector: selectorLabels(m, ComponentServing),
			Ports: []corev1.ServicePort{{
				Name: "http", Port: 80, Protocol: corev1.ProtocolTCP,
				TargetPort: intstr.FromInt32(servingPort(m)),
			}},
		},
	}
}

func autoscaler(m *Model, source string) *autoscalingv2.HorizontalPodAutoscaler {
	a := m.Spec.Serving.Autoscaling
	h := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: objectMeta(m, m.Metadata.Name, ComponentServing, source),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: m.Metadata.Name},
			MinReplicas:    a.MinReplicas,
			MaxReplicas:    a.MaxReplicas,
		},
	}
	if a.TargetCPUUtilizationPercentage != nil {
		h.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name:   corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: a.TargetCPUUtilizationPercentage},
			},
		}}
	}
	return h
}

// envVars returns the user's env sorted by name, preceded by tether's own
// variables (name/value pairs in extra) that have a value.
func envVars(user map[string]string, extra ...string) []corev1.EnvVar {
	var env []corev1.EnvVar
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			env = append(env, corev1.EnvVar{Name: extra[i], Value: extra[i+1]})
		}
	}
	names := make([]string, 0, len(user))
	for k := range user {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		env = append(env, corev1.EnvVar{Name: k, Value: user[k]})
	}
	return env
}

// resources maps a spec's cpu and memory to requests (memory also as limit)
// and gpu to the nvidia.com/gpu limit. Quantities were validated before.
func resources(r *Resources) corev1.ResourceRequirements {
	var req corev1.ResourceRequirements
	if r == nil {
		return req
	}
	add := func(list *corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) {
		if *list == nil {
			*list = corev1.ResourceList{}
		}
		(*list)[name] = q
	}
	if r.CPU != "" {
		add(&req.Requests, corev1.ResourceCPU, resource.MustParse(r.CPU))
	}
	if r.Memory != "" {
		add(&req.Requests, corev1.ResourceMemory, resource.MustParse(r.Memory))
		add(&req.Limits, corev1.ResourceMemory, resource.MustParse(r.Memory))
	}
	if r.GPU > 0 {
		add(&req.Limits, gpuResource, *resource.NewQuantity(r.GPU, resource.DecimalSI))
	}
	return req
}
