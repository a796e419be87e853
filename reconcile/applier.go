package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the name tether's server-side applies carry in managedFields.
const FieldManager = "tether"

// Applier server-side applies and deletes objects through the dynamic client,
// resolving kinds with a cached discovery RESTMapper.
type Applier struct {
	dyn       dynamic.Interface
	meta      rest.Interface // applies: the API server answers with metadata only
	clientset kubernetes.Interface
	mapper    meta.ResettableRESTMapper
}

// NewApplier builds an Applier for cfg. Discovery runs lazily, on the first apply.
func NewApplier(cfg *rest.Config) (*Applier, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("clientset: %w", err)
	}
	md, err := metadataREST(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return &Applier{dyn: dyn, meta: md, clientset: cs, mapper: mapper}, nil
}

// Dynamic is the client the Applier writes with; watchers share it.
func (a *Applier) Dynamic() dynamic.Interface { return a.dyn }

// Applied is what the API server answered to a server-side apply: the stored
// object's metadata (its managedFields and resourceVersion: all tether reads
// back, and cheaper for the server to encode than the whole object) and
// whether the apply created the object (201) or changed one that existed (200).
type Applied struct {
	*metav1.PartialObjectMetadata
	Created bool
}

// Apply server-side applies obj with conflicts forced. One request per
// object: no GET or dry-run first.
func (a *Applier) Apply(ctx context.Context, obj *unstructured.Unstructured) (Applied, schema.GroupVersionResource, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return Applied{}, schema.GroupVersionResource{}, fmt.Errorf("%s: apply: %w", KeyOf(obj), err)
	}
	return a.ApplyJSON(ctx, obj.GroupVersionKind(), KeyOf(obj), data)
}

// ApplyJSON is Apply for an object already encoded as JSON.
func (a *Applier) ApplyJSON(ctx context.Context, gvk schema.GroupVersionKind, key Key, data []byte) (Applied, schema.GroupVersionResource, error) {
	gvr, namespaced, err := a.mapping(gvk)
	if err != nil {
		return Applied{}, gvr, fmt.Errorf("%s: apply: %w", key, err)
	}
	ns := ""
	if namespaced {
		ns = key.Namespace
	}
	var code int
	res := a.meta.Patch(types.ApplyPatchType).AbsPath(resourcePath(gvr, ns, key.Name)...).
		Param("fieldManager", FieldManager).Param("force", "true").
		SetHeader("Accept", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json").
		Body(data).Do(ctx).StatusCode(&code)
	if err := res.Error(); err != nil { // Error, not Raw: it decodes the API server's Status
		return Applied{}, gvr, fmt.Errorf("%s: apply: %w", key, err)
	}
	raw, err := res.Raw()
	if err != nil {
		return Applied{}, gvr, fmt.Errorf("%s: apply: %w", key, err)
	}
	live := &metav1.PartialObjectMetadata{}
	if err := json.Unmarshal(raw, live); err != nil {
		return Applied{}, gvr, fmt.Errorf("%s: apply: decode the answer: %w", key, err)
	}
	return Applied{PartialObjectMetadata: live, Created: code == http.StatusCreated}, gvr, nil
}

// resourcePath is the REST path of one object.
func resourcePath(gvr schema.GroupVersionResource, namespace, name string) []string {
	out := []string{"/apis", gvr.Group, gvr.Version}
	if gvr.Group == "" {
		out = []string{"/api", gvr.Version}
	}
	if namespace != "" {
		out = append(out, "namespaces", namespace)
	}
	return append(out, gvr.Resource, name)
}

// metadataREST is a REST client that asks for metadata only, as client-go's
// metadata client does; tether uses it directly to see the status code.
func metadataREST(cfg *rest.Config) (rest.Interface, error) {
	c := metadata.ConfigFor(cfg)
	c.GroupVersion = &schema.GroupVersion{}
	c.APIPath = "/this-value-should-never-be-sent"
	c.ContentType = "application/json"
	return rest.RESTClientFor(c)
}

// Delete deletes an object in the background if it still has uid and
// resourceVersion (the version tether checked); an object already gone is
// fine, one changed since answers a Conflict.
func (a *Applier) Delete(ctx context.Context, gvk schema.GroupVersionKind, key Key, uid types.UID, resourceVersion string) error {
	ri, _, err := a.resource(gvk, key.Namespace)
	if err != nil {
		return fmt.Errorf("%s: delete: %w", key, err)
	}
	policy := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &resourceVersion}}
	err = ri.Delete(ctx, key.Name, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: delete: %w", key, err)
	}
	return nil
}

// get reads an object's live state from the API server.
func (a *Applier) get(ctx context.Context, gvk schema.GroupVersionKind, key Key) (*unstructured.Unstructured, error) {
	ri, _, err := a.resource(gvk, key.Namespace)
	if err != nil {
		return nil, err
	}
	return ri.Get(ctx, key.Name, metav1.GetOptions{})
}

// namespaced reports whether a kind lives in namespaces.
func (a *Applier) namespaced(gvk schema.GroupVersionKind) (bool, error) {
	_, namespaced, err := a.mapping(gvk)
	return namespaced, err
}

// resourceFor maps a kind to its REST resource.
func (a *Applier) resourceFor(gvk schema.GroupVersionKind) (schema.GroupVersionResource, error) {
	gvr, _, err := a.mapping(gvk)
	return gvr, err
}

// resource maps a kind to its REST resource.
func (a *Applier) resource(gvk schema.GroupVersionKind, namespace string) (dynamic.ResourceInterface, schema.GroupVersionResource, error) {
	gvr, namespaced, err := a.mapping(gvk)
	if err != nil {
		return nil, gvr, err
	}
	if namespaced {
		return a.dyn.Resource(gvr).Namespace(namespace), gvr, nil
	}
	return a.dyn.Resource(gvr), gvr, nil
}

// mapping resolves a kind, refreshing discovery once when the kind is unknown
// (e.g. a CRD created moments ago).
func (a *Applier) mapping(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	mapping, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		a.mapper.Reset()
		mapping, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return schema.GroupVersionResource{}, false, err
	}
	return mapping.Resource, mapping.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
