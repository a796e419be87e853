package benchgen

import (
	"fmt"
	"os"
	"path/filepath"
)

// Name is the folder (and model) name of model i.
func Name(i int) string { return fmt.Sprintf("model-%04d", i) }

// Repo writes n models under dir/models. Every overlayEvery-th model (none
// when overlayEvery is 0) also gets a kustomization.yaml.
func Repo(dir string, n, overlayEvery int) error {
	for i := range n {
		folder := filepath.Join(dir, "models", Name(i))
		files := map[string]string{"model.yaml": Model(i, 1)}
		if overlayEvery > 0 && i%overlayEvery == 0 {
			files["kustomization.yaml"] = fmt.Sprintf(kustomization, i, i)
			files["serving-patch.yaml"] = fmt.Sprintf(servingPatch, Name(i))
			files["flags.yaml"] = fmt.Sprintf(flags, Name(i), i)
		}
		if err := write(folder, files); err != nil {
			return err
		}
	}
	return nil
}

func write(folder string, files map[string]string) error {
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(folder, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ModelFile is the path of model i's spec in the repository.
func ModelFile(i int) string { return "models/" + Name(i) + "/model.yaml" }

// Model returns model i at version v (its modelURI ends in /v<v>; Repo
// writes version 1): a new version changes its serving Deployment and, for
// a model that trains once, starts a new training run.
func Model(i, v int) string {
	spec := fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata:
  name: %s
  labels: {team: team-%d}
spec:
  image: registry.example.com/m%d@sha256:%064x
  modelURI: s3://models/m%d/v%d
`, Name(i), i%10, i, i, i, v)
	switch {
	case i%7 == 0:
		spec += "  training:\n    command: [python, train.py]\n    schedule: \"0 3 * * *\"\n    resources: {cpu: \"4\", memory: 16Gi, gpu: 1}\n"
	case i%3 == 0:
		spec += fmt.Sprintf("  training:\n    command: [python, train.py]\n    dataset: s3://data/m%d/2026-11\n    env: {EPOCHS: \"10\"}\n    resources: {cpu: \"2\", memory: 8Gi}\n", i)
	}
	spec += "  serving:\n    command: [python, serve.py]\n    resources: {cpu: 500m, memory: 1Gi}\n    readinessPath: /healthz\n"
	if i%5 == 0 {
		spec += "    autoscaling: {minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 70}\n"
	} else {
		spec += "    replicas: 2\n"
	}
	return spec
}

const kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - flags.yaml
images:
  - name: registry.example.com/m%d
    newName: mirror.example.com/m%d
labels:
  - pairs: {cost-center: ml}
patches:
  - path: serving-patch.yaml
`

const servingPatch = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
spec:
  template:
    spec:
      nodeSelector: {pool: inference}
`

const flags = `apiVersion: v1
kind: ConfigMap
metadata:
  name: %s-flags
data:
  SEED: "%d"
`
