package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// webhookSecret signs the bench's push webhooks to tether.
const webhookSecret = "bench-webhook-secret"

// pushes measures push -> applied for tether: a commit, then a signed GitHub
// push webhook, until the watch sees the changed Deployment.
func (b *bench) pushes(ctx context.Context, repo string) error {
	w := b.watch(ctx)
	lat, err := b.pushTrials(w, repo, 2*b.o.interval+time.Minute, b.daemon.postHook)
	if err != nil {
		return err
	}
	fmt.Printf("## push -> applied, %d commits (commit -> webhook -> watch sees the change)\n", len(lat))
	fmt.Printf("p50 %.1f ms, max %.1f ms; each: %s\n\n", percentile(lat, 50), percentile(lat, 100), joinMs(lat))
	b.fig.tether.pushP50, b.fig.tether.pushMax = percentile(lat, 50), percentile(lat, 100)
	return nil
}

// pushTrials commits b.o.pushes changes to random models' serving env, one at
// a time; after each commit it calls trigger and times until w sees the new
// env on the model's Deployment, for at most timeout.
func (b *bench) pushTrials(w *watched, repo string, timeout time.Duration, trigger func() error) ([]float64, error) {
	var lat []float64
	for range b.o.pushes {
		i := rand.N(b.o.models)
		value := fmt.Sprint(time.Now().UnixNano())
		if err := b.commitPush(repo, i, value); err != nil {
			return nil, err
		}
		applied := w.expect(modelName(i), func(d *appsv1.Deployment) bool { return hasEnv(d, "PUSH", value) })
		pushed := time.Now()
		if err := trigger(); err != nil {
			return nil, err
		}
		select {
		case seen := <-applied:
			lat = append(lat, ms(seen.Sub(pushed)))
		case <-time.After(timeout):
			return nil, fmt.Errorf("push to %s not applied within %s", modelName(i), timeout)
		}
	}
	return lat, nil
}

// commitPush sets env PUSH=value on model i's serving, renders the model's
// plain manifests for Flux again when the repository has them, and commits.
func (b *bench) commitPush(repo string, i int, value string) error {
	name := modelName(i)
	spec := strings.Replace(modelYAML(i), "    port: 8080\n", fmt.Sprintf("    port: 8080\n    env: {PUSH: %q}\n", value), 1)
	if err := os.WriteFile(filepath.Join(repo, "models", name, "model.yaml"), []byte(spec), 0o644); err != nil {
		return err
	}
	if b.o.flux {
		objs, err := b.render(repo, fluxNamespace, name)
		if err != nil {
			return err
		}
		if err := writeFluxFolder(repo, name, objs); err != nil {
			return err
		}
	}
	return git(repo, "-c", "user.name=bench", "-c", "user.email=bench@tether.dev", "commit", "-qam", "push "+name)
}

func hasEnv(d *appsv1.Deployment, name, value string) bool {
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

// writeFluxFolder writes one model's rendered objects as the plain manifests
// a Flux Kustomization applies: flux/<model>/objects.yaml and a
// kustomization.yaml listing it.
func writeFluxFolder(repo, model string, objs []rendered) error {
	dir := filepath.Join(repo, "flux", model)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var sb strings.Builder
	for _, o := range objs {
		sb.WriteString("---\n")
		sb.Write(o.Doc)
	}
	if err := os.WriteFile(filepath.Join(dir, "objects.yaml"), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	const k = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [objects.yaml]\n"
	return os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644)
}

func git(repo string, args ...string) error {
	if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("git %v: %v\n%s", args, err, out)
	}
	return nil
}

// postHook sends tether a signed GitHub push webhook.
func (d *daemon) postHook() error {
	body := `{"ref":"refs/heads/main"}`
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write([]byte(body))
	req, err := http.NewRequest(http.MethodPost, "http://"+d.addr+"/hooks/git", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}

func modelName(i int) string { return fmt.Sprintf("m%04d", i) }
