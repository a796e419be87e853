package test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/e2e/slackrecv"
)

const (
	// modelNamespace is where the test repository's models and bundle go.
	modelNamespace = "ml"
	gitUser        = "tether"
	gitToken       = "s3cr3t-token"
	webhookSecret  = "hook-secret"
)

// testSecrets are the Secrets (and their keys) the cluster tests create, as
// the README tells users to.
var testSecrets = map[string][]string{
	"tether-git": {"token"}, "tether-slack": {"url"}, "tether-webhook": {"secret"},
}

// env is the world the cluster tests share: the local control plane with the
// chart installed, the models repository behind token auth and a Slack stand-in.
type env struct {
	c      *cluster.Cluster
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	repo   *gitrepo.Repo
	git    *gitrepo.Server
	slack  *slackrecv.Receiver
	deploy *unstructured.Unstructured // the installed Deployment
	// secrets holds the data of every Secret the Deployment mounts, by name.
	secrets map[string]map[string][]byte
}

// newEnv starts (or reuses) the control plane, serves the models repository,
// creates the Secrets and installs the chart with testdata/install.values.yaml.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{c: sharedCluster(t), slack: slackrecv.New(t)}
	e.cs = kubernetes.NewForConfigOrDie(e.c.Config)
	e.dyn = dynamic.NewForConfigOrDie(e.c.Config)
	e.repo = gitrepo.New(t)
	e.repo.CopyTree(filepath.Join(repoRoot, "examples", "models"))
	e.repo.CopyTree(filepath.Join("testdata", "repo"))
	e.repo.Commit(nil)
	e.git = gitrepo.ServeWith(t, e.repo.Dir, gitrepo.ServeOptions{Username: gitUser, Password: gitToken})
	for _, ns := range []string{releaseNamespace, modelNamespace} {
		e.createNamespace(t, ns)
	}
	e.secrets = map[string]map[string][]byte{
		"tether-git":     {"token": []byte(gitToken)},
		"tether-slack":   {"url": []byte(e.slack.URL)},
		"tether-webhook": {"secret": []byte(webhookSecret)},
	}
	for name, data := range e.secrets {
		if got := slices.Sorted(maps.Keys(data)); !slices.Equal(got, testSecrets[name]) {
			t.Fatalf("Secret %s: keys %v, want %v", name, got, testSecrets[name])
		}
	}
	for name, data := range e.secrets {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: releaseNamespace}, Data: data}
		if _, err := e.cs.CoreV1().Secrets(releaseNamespace).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.deploy = find(t, objects(t, e.install(t, releaseName, e.values(t))), "Deployment", releaseName)
	return e
}

// values are testdata/install.values.yaml pointed at the test's Git server,
// polled every second, with two replicas: the Deployment's arguments then
// turn leader election on, and the least-privilege test proves the Lease's
// permissions too.
func (e *env) values(t *testing.T) map[string]any {
	t.Helper()
	values := readValues(t, filepath.Join("testdata", "install.values.yaml"))
	cfg := values["config"].(map[string]any)
	cfg["repo"], cfg["interval"] = e.git.URL, "1s"
	values["replicaCount"] = 2
	return values
}

// scoped installs a second release, tether-scoped, with rbac.scope
// namespaces (writes in modelNamespace only), and returns the env for it.
func (e *env) scoped(t *testing.T) *env {
	t.Helper()
	const name = "tether-scoped"
	values := e.values(t)
	rbac := values["rbac"].(map[string]any)
	rbac["scope"], rbac["namespaces"] = "namespaces", []any{modelNamespace}
	s := *e
	s.deploy = find(t, objects(t, e.install(t, name, values)), "Deployment", name)
	return &s
}

func (e *env) createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := e.cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// install installs the chart as release name in releaseNamespace with helm's
// SDK, as `helm install`, and returns the release's manifest.
func (e *env) install(t *testing.T, name string, values map[string]any) string {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(false)
	kubeconfig, namespace := e.c.Kubeconfig, releaseNamespace
	flags.KubeConfig, flags.Namespace = &kubeconfig, &namespace
	cfg := quietHelm()
	if err := cfg.Init(flags, releaseNamespace, "secret"); err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace = name, releaseNamespace
	install.WaitStrategy = kube.HookOnlyStrategy
	install.Timeout = time.Minute
	rel, err := install.RunWithContext(context.Background(), ch, values)
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	return rel.(*release.Release).Manifest
}

// token is a ServiceAccount token of the chart's ServiceAccount (TokenRequest).
func (e *env) token(t *testing.T) string {
	t.Helper()
	sa, _, _ := unstructured.NestedString(e.deploy.Object, "spec", "template", "spec", "serviceAccountName")
	expiry := int64(3600)
	tr, err := e.cs.CoreV1().ServiceAccounts(releaseNamespace).CreateToken(context.Background(), sa,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", releaseNamespace, sa, err)
	}
	return tr.Status.Token
}

// tokenKubeconfig writes a kubeconfig that authenticates with token only.
func (e *env) tokenKubeconfig(t *testing.T, token string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: e.c.Config.Host, CertificateAuthorityData: e.c.Config.CAData}
	cfg.AuthInfos["tether"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "tether"}
	cfg.CurrentContext = "local"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// mountDirs writes the files of every Secret volume the Deployment mounts
// into a directory each (mode 0440, group 65532, as defaultMode and fsGroup
// make them) and returns mount path -> directory, the work dir included.
func (e *env) mountDirs(t *testing.T) map[string]string {
	t.Helper()
	spec, _, _ := unstructured.NestedMap(e.deploy.Object, "spec", "template", "spec")
	secretOf := map[string]string{}
	for _, v := range spec["volumes"].([]any) {
		vol := v.(map[string]any)
		if s, ok := vol["secret"].(map[string]any); ok {
			secretOf[vol["name"].(string)] = s["secretName"].(string)
		}
	}
	dirs := map[string]string{}
	for _, m := range container(t, e.deploy)["volumeMounts"].([]any) {
		mount := m.(map[string]any)
		dir := t.TempDir()
		mustChown(t, dir, 0o755)
		if name, ok := secretOf[mount["name"].(string)]; ok {
			for key, data := range e.secrets[name] {
				writeSecretFile(t, filepath.Join(dir, key), data)
			}
		} else {
			mustChown(t, dir, 0o700) // the emptyDir: the container's user owns it
		}
		dirs[mount["mountPath"].(string)] = dir
	}
	return dirs
}

func writeSecretFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o440); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 0, nonroot); err != nil {
		t.Fatal(err)
	}
}

// mustChown gives dir to the image's nonroot user with mode.
func mustChown(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Chown(dir, nonroot, nonroot); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

// hostArgs are the Deployment's arguments for a tether process on this host:
// mount paths replaced by their directories, then overrides (the flag
// parsers keep the last value of a repeated flag).
func hostArgs(args []string, dirs map[string]string, overrides ...string) []string {
	out := make([]string, 0, len(args)+len(overrides))
	for _, a := range args {
		for mount, dir := range dirs {
			a = strings.Replace(a, "="+mount, "="+dir, 1)
		}
		out = append(out, a)
	}
	return append(out, overrides...)
}

// nonroot is the image's user and group (distroless nonroot).
const nonroot = 65532
