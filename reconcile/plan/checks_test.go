package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/tether-ml/tether/reconcile"
)

func obj(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestImmutable(t *testing.T) {
	deploy := func(app string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: " + app + "}}\n  replicas: 1\n"
	}
	job := func(image string) string {
		return "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template: {spec: {containers: [{name: c, image: " + image + "}]}}\n"
	}
	svc := func(typ, ip string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: " + typ + ", clusterIP: '" + ip + "'}\n"
	}
	pvc := func(mode, size string) string {
		return "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p}\nspec: {accessModes: [" + mode + "], resources: {requests: {storage: " + size + "}}}\n"
	}
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"deployment selector", deploy("a"), deploy("b"), []string{"spec.selector is immutable; rename the object to replace it"}},
		{"deployment selector kept", deploy("a"), deploy("a"), nil},
		{"job template", job("a"), job("b"), []string{"spec.template of a Job is immutable; a Job with a new template needs a new name (tether's training Jobs get one from their content hash)"}},
		{"clusterIP changed", svc("ClusterIP", "10.0.0.1"), svc("ClusterIP", "10.0.0.2"), []string{`spec.clusterIP is immutable: "10.0.0.1" → "10.0.0.2"; delete the Service or keep its clusterIP`}},
		{"allocated clusterIP to None", svc("ClusterIP", ""), svc("ClusterIP", "None"), []string{`spec.clusterIP is immutable: the allocated address cannot become "None" (headless); rename the Service to replace it`}},
		{"clusterIP left to the allocator", svc("ClusterIP", "10.0.0.1"), svc("ClusterIP", ""), nil},
		{"ExternalName with a clusterIP", svc("ClusterIP", ""), svc("ExternalName", "10.0.0.3"), []string{`spec.type ExternalName needs no clusterIP, but it is "10.0.0.3"`}},
		{"ExternalName without one", svc("ClusterIP", "10.0.0.1"), svc("ExternalName", ""), nil},
		{"claim grows", pvc("ReadWriteOnce", "1Gi"), pvc("ReadWriteOnce", "2Gi"), nil},
		{"claim shrinks", pvc("ReadWriteOnce", "2Gi"), pvc("ReadWriteOnce", "1Gi"), []string{"spec.resources.requests.storage may only grow: 2Gi → 1Gi"}},
		{"claim access mode", pvc("ReadWriteOnce", "1Gi"), pvc("ReadWriteMany", "1Gi"), []string{"spec of a PersistentVolumeClaim is immutable except resources.requests"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, immutable(obj(t, tt.old), obj(t, tt.new))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMasked(t *testing.T) {
	secret := func(data string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations: {" + lastApplied + ": '{\"data\":{\"k\":\"c2VjcmV0\"}}'}\ntype: Opaque\ndata: " + data + "\n"
	}
	tests := []struct {
		name         string
		old, new     string
		wantDiffHas  string
		wantOldField any
	}{
		{"changed value", secret("{a: YQ==, b: Yg==}"), secret("{a: YQ==, b: Yw==}"), "-  b: <hidden>\n+  b: <hidden> (changed)\n", map[string]any{"a": "YQ==", "b": "Yg=="}},
		{"added key", secret("{a: YQ==}"), secret("{a: YQ==, c: Yw==}"), " data:\n   a: <hidden>\n+  c: <hidden>\n", map[string]any{"a": "YQ=="}},
		{"not a Secret", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x1}\n", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: y1}\n",
			"-  a: x1\n+  a: y1\n", map[string]any{"a": "x1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, new := obj(t, tt.old), obj(t, tt.new)
			d := objectDiff("a", "b", old, new)
			if !strings.Contains(d, tt.wantDiffHas) {
				t.Errorf("diff lacks %q:\n%s", tt.wantDiffHas, d)
			}
			masked, _ := masked(new, nil)
			for _, shown := range []string{"apiVersion: v1\n", "name: ", "type: Opaque\n", "kind: Secret\n"} {
				if tt.name != "not a Secret" && !strings.Contains(manifest(masked), shown) {
					t.Errorf("a masked Secret hides %q, which is no secret:\n%s", shown, manifest(masked))
				}
			}
			for _, leak := range []string{"YQ==", "Yg==", "Yw==", "c2VjcmV0"} {
				if tt.name != "not a Secret" && strings.Contains(d, leak) {
					t.Errorf("diff shows the value %s:\n%s", leak, d)
				}
			}
			if diff := cmp.Diff(tt.wantOldField, old.Object["data"]); diff != "" { // masking works on copies
				t.Errorf("the input was changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsageOf(t *testing.T) {
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ml}\nspec:\n  replicas: 3\n  template:\n    spec:\n" +
		"      initContainers: [{name: i, resources: {requests: {cpu: '4'}}}]\n" +
		"      containers:\n      - {name: a, resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {nvidia.com/gpu: 1}}}\n" +
		"      - {name: b, resources: {requests: {cpu: 250m, memory: 512Mi}}}\n"
	hpa := "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: d, namespace: ml}\nspec: {scaleTargetRef: {kind: Deployment, name: d}, maxReplicas: 5}\n"
	job := "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: ml}\nspec:\n  parallelism: 2\n  activeDeadlineSeconds: 600\n" +
		"  template: {spec: {containers: [{name: t, resources: {requests: {cpu: '2', memory: 8Gi}, limits: {nvidia.com/gpu: 2}}}]}}\n"
	cron := "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: ml}\nspec:\n  schedule: '@daily'\n" +
		"  jobTemplate: {spec: {template: {spec: {containers: [{name: t, resources: {requests: {cpu: '1', memory: 1Gi}}}]}}}}\n"
	tests := []struct {
		name string
		objs []string
		want Usage
	}{
		{"replicas times the pod, the larger init container counted", []string{deploy},
			Usage{Replicas: Range{3, 3}, GPU: Range{3, 3}, CPU: Range{12000, 12000}, Memory: Range{3 * 1536 << 20, 3 * 1536 << 20}}},
		{"an autoscaler's range, minimum 1 by default", []string{deploy, hpa},
			Usage{Replicas: Range{1, 5}, GPU: Range{1, 5}, CPU: Range{4000, 20000}, Memory: Range{1536 << 20, 5 * 1536 << 20}}},
		{"a training run: Job times parallelism plus a CronJob run", []string{job, cron},
			Usage{Training: Run{GPU: 4, CPU: 5000, Memory: 17 << 30, MaxSeconds: 600}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []*unstructured.Unstructured
			for _, m := range tt.objs {
				objs = append(objs, obj(t, m))
			}
			if diff := cmp.Diff(tt.want, usageOf(objs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideGuard(t *testing.T) {
	half := reconcile.PruneLimit{Percent: 50}
	tests := []struct {
		name                  string
		limit                 reconcile.PruneLimit
		deletions, managed    int
		rendersNothing, allow bool
		blocked               bool
	}{
		{"nothing to delete", half, 0, 100, false, false, false},
		{"half of 100", half, 50, 100, false, false, false},
		{"over half of 100", half, 51, 100, false, false, true},
		{"never fewer than 10", half, 10, 12, false, false, false},
		{"11 of 12", half, 11, 12, false, false, true},
		{"a count", reconcile.PruneLimit{Count: 2, IsCount: true}, 3, 100, false, false, true},
		{"allowMassPrune", half, 99, 100, false, true, false},
		{"renders nothing", half, 4, 4, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := decideGuard(tt.limit, tt.deletions, tt.managed, tt.rendersNothing, tt.allow)
			if g.Blocked != tt.blocked || (g.Reason != "") != tt.blocked {
				t.Errorf("guard %+v, want blocked %v", g, tt.blocked)
			}
		})
	}
}
