package render

// APIVersion and KindModel identify a model.yaml document.
const (
	APIVersion = "tether.dev/v1alpha1"
	KindModel  = "Model"
)

// Drift modes a model may choose; the daemon's --drift flag gives the default.
const (
	DriftRevert = "revert"
	DriftReport = "report"
)

// Model is the content of models/<name>/model.yaml.
type Model struct {
	APIVersion string   `yaml:"apiVersion" json:"apiVersion"`
	Kind       string   `yaml:"kind" json:"kind"`
	Metadata   Metadata `yaml:"metadata" json:"metadata"`
	Spec       Spec     `yaml:"spec" json:"spec"`
}

// Metadata names a model and places it in a namespace.
type Metadata struct {
	Name      string            `yaml:"name,omitempty" json:"name,omitempty"`
	Namespace string            `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
}

// Spec is what a model runs: its image, how it trains and how it serves.
type Spec struct {
	Image    string    `yaml:"image" json:"image"`
	ModelURI string    `yaml:"modelURI,omitempty" json:"modelURI,omitempty"`
	Drift    string    `yaml:"drift,omitempty" json:"drift,omitempty"`
	Suspend  bool      `yaml:"suspend,omitempty" json:"suspend,omitempty"`
	Protect  *bool     `yaml:"protect,omitempty" json:"protect,omitempty"` // label tether.dev/protect=true; nil: tether.yaml's protect
	Training *Training `yaml:"training,omitempty" json:"training,omitempty"`
	Serving  *Serving  `yaml:"serving,omitempty" json:"serving,omitempty"`
}

// Training renders into a Job, or a CronJob when Schedule is set.
type Training struct {
	Command               []string          `yaml:"command,omitempty" json:"command,omitempty"`
	Args                  []string          `yaml:"args,omitempty" json:"args,omitempty"`
	Env                   map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Dataset               string            `yaml:"dataset,omitempty" json:"dataset,omitempty"`
	Resources             *Resources        `yaml:"resources,omitempty" json:"resources,omitempty"`
	Schedule              string            `yaml:"schedule,omitempty" json:"schedule,omitempty"`
	BackoffLimit          *int32            `yaml:"backoffLimit,omitempty" json:"backoffLimit,omitempty"`
	ActiveDeadlineSeconds *int64            `yaml:"activeDeadlineSeconds,omitempty" json:"activeDeadlineSeconds,omitempty"`
	KeepRuns              *int32            `yaml:"keepRuns,omitempty" json:"keepRuns,omitempty"`
}

// Serving renders into a Deployment, a Service and, with Autoscaling, an HPA.
type Serving struct {
	Command       []string          `yaml:"command,omitempty" json:"command,omitempty"`
	Args          []string          `yaml:"args,omitempty" json:"args,omitempty"`
	Env           map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Port          *int32            `yaml:"port,omitempty" json:"port,omitempty"`
	Replicas      *int32            `yaml:"replicas,omitempty" json:"replicas,omitempty"`
	Autoscaling   *Autoscaling      `yaml:"autoscaling,omitempty" json:"autoscaling,omitempty"`
	Resources     *Resources        `yaml:"resources,omitempty" json:"resources,omitempty"`
	ReadinessPath string            `yaml:"readinessPath,omitempty" json:"readinessPath,omitempty"`
}

// Resources are per-container requests; GPU becomes the nvidia.com/gpu limit.
type Resources struct {
	CPU    string `yaml:"cpu,omitempty" json:"cpu,omitempty"`
	Memory string `yaml:"memory,omitempty" json:"memory,omitempty"`
	GPU    int64  `yaml:"gpu,omitempty" json:"gpu,omitempty"`
}

// Autoscaling renders into an autoscaling/v2 HorizontalPodAutoscaler.
type Autoscaling struct {
	MinReplicas                    *int32 `yaml:"minReplicas,omitempty" json:"minReplicas,omitempty"`
	MaxReplicas                    int32  `yaml:"maxReplicas" json:"maxReplicas"`
	TargetCPUUtilizationPercentage *int32 `yaml:"targetCPUUtilizationPercentage,omitempty" json:"targetCPUUtilizationPercentage,omitempty"`
}

// reservedEnv are the variables tether sets itself; a spec may not set them.
var reservedEnv = map[string]string{
	"MODEL_URI":   "spec.modelURI",
	"DATASET_URI": "spec.training.dataset",
}

// defaultPort is the serving container port when a spec names none.
const defaultPort = 8080

// defaultKeepRuns is how many finished training Jobs are kept per model.
const defaultKeepRuns = 3
