package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"
)

// rendered is one object of `tether render` output.
type rendered struct {
	Kind, Name, Model string
	Image             string // first container's image of a Deployment or Job
	Doc               []byte // the object's YAML document
}

func (r rendered) key() string { return r.Kind + "/" + r.Name }

// render runs `tether render` on repo for namespace ns and splits its output
// into objects.
func (b *bench) render(repo, ns string, model ...string) ([]rendered, error) {
	args := []string{"render", repo, "--default-namespace", ns}
	for _, m := range model {
		args = append(args, "--model", m)
	}
	out, err := exec.Command(b.tether, args...).Output()
	if err != nil {
		return nil, fmt.Errorf("tether render: %w", err)
	}
	var objs []rendered
	for _, doc := range bytes.Split(bytes.TrimPrefix(out, []byte("---\n")), []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var o struct {
			Kind     string
			Metadata struct {
				Name   string
				Labels map[string]string
			}
			Spec struct {
				Template struct {
					Spec corev1.PodSpec
				}
			}
		}
		if err := yaml.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("tether render: %w", err)
		}
		r := rendered{Kind: o.Kind, Name: o.Metadata.Name, Model: o.Metadata.Labels["tether.dev/model"], Doc: append(doc, '\n')}
		if c := o.Spec.Template.Spec.Containers; len(c) > 0 {
			r.Image = c[0].Image
		}
		objs = append(objs, r)
	}
	return objs, nil
}

// objectWatch watches the bench's four kinds in one namespace and tells when
// every expected object exists with the expected image. Its informers keep
// only what that check needs, so 40,000 objects cost little memory.
type objectWatch struct {
	mu      sync.Mutex
	want    map[string]string // kind/name -> image ("" for kinds without one)
	ok      map[string]bool
	allSeen chan time.Time
}

func watchObjects(ctx context.Context, cs kubernetes.Interface, ns string, objs []rendered) *objectWatch {
	w := &objectWatch{want: map[string]string{}, ok: map[string]bool{}, allSeen: make(chan time.Time, 1)}
	for _, o := range objs {
		w.want[o.key()] = o.Image
	}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns), informers.WithTransform(slim))
	for _, inf := range []cache.SharedIndexInformer{
		f.Apps().V1().Deployments().Informer(), f.Batch().V1().Jobs().Informer(),
		f.Core().V1().Services().Informer(), f.Autoscaling().V2().HorizontalPodAutoscalers().Informer(),
	} {
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { w.check(obj) },
			UpdateFunc: func(_, obj any) { w.check(obj) },
		})
	}
	f.Start(ctx.Done())
	return w
}

// slim turns an object into what objectWatch needs: its kind, name and image
// (in an annotation of a metadata-only object, which the informer can key).
func slim(obj any) (any, error) {
	var kind, image string
	var meta metav1.ObjectMeta
	switch o := obj.(type) {
	case *appsv1.Deployment:
		kind, image, meta = "Deployment", firstImage(o.Spec.Template.Spec), o.ObjectMeta
	case *batchv1.Job:
		kind, image, meta = "Job", firstImage(o.Spec.Template.Spec), o.ObjectMeta
	case *corev1.Service:
		kind, meta = "Service", o.ObjectMeta
	case *autoscalingv2.HorizontalPodAutoscaler:
		kind, meta = "HorizontalPodAutoscaler", o.ObjectMeta
	default:
		return obj, nil // tombstones pass through
	}
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Name: meta.Name, Namespace: meta.Namespace, ResourceVersion: meta.ResourceVersion,
			Annotations: map[string]string{imageAnnotation: image}},
	}, nil
}

const imageAnnotation = "bench.tether.dev/image"

func firstImage(spec corev1.PodSpec) string {
	if len(spec.Containers) == 0 {
		return ""
	}
	return spec.Containers[0].Image
}

func (w *objectWatch) check(obj any) {
	now := time.Now()
	o, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return
	}
	key := o.Kind + "/" + o.Name
	w.mu.Lock()
	defer w.mu.Unlock()
	image, ok := w.want[key]
	if !ok || image != o.Annotations[imageAnnotation] || w.ok[key] {
		return
	}
	w.ok[key] = true
	if len(w.ok) == len(w.want) {
		w.allSeen <- now
	}
}

// wait returns when the last expected object was seen.
func (w *objectWatch) wait(timeout time.Duration) (time.Time, error) {
	select {
	case t := <-w.allSeen:
		return t, nil
	case <-time.After(timeout):
		w.mu.Lock()
		defer w.mu.Unlock()
		var missing []string
		for k := range w.want {
			if !w.ok[k] && len(missing) < 5 {
				missing = append(missing, k)
			}
		}
		return time.Time{}, fmt.Errorf("%d of %d objects seen within %s; missing e.g. %s", len(w.ok), len(w.want), timeout, strings.Join(missing, ", "))
	}
}
