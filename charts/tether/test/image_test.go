package test

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// saDir is where a pod finds its ServiceAccount token and the cluster's CA.
const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// testImage runs the image `make image` built ($TETHER_IMAGE) under podman as
// the Deployment would run: its arguments, its Secret and emptyDir mounts,
// its securityContext, a token of the chart's ServiceAccount where the
// in-cluster config looks for it, and the host's network to reach the local
// control plane and Git server. It must run the scenario as UID 65532 on a
// read-only root filesystem without capabilities.
func (e *env) testImage(t *testing.T) {
	image := os.Getenv("TETHER_IMAGE")
	if image == "" {
		t.Fatal("TETHER_IMAGE is not set: run make test-chart (it builds the image with make image first), or set it to an image make image built")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman is not installed: make image installs it")
	}
	e.clean(t)
	e.resetRepo(t)
	name := fmt.Sprintf("tether-chart-test-%d", time.Now().UnixNano())
	cmd := exec.Command("podman", e.podmanArgs(t, name, image)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+containersConf(t))
	d := startDaemon(t, cmd)
	d.listenAddr(t, 60*time.Second)
	e.mustPass(t, d)
	checkConfinement(t, containerPid(t, name))
}

// podmanArgs is `podman run` for the Deployment's pod spec.
func (e *env) podmanArgs(t *testing.T, name, image string) []string {
	t.Helper()
	pod, _, _ := unstructured.NestedMap(e.deploy.Object, "spec", "template", "spec")
	psc, _ := pod["securityContext"].(map[string]any)
	sc, _ := container(t, e.deploy)["securityContext"].(map[string]any)
	if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false {
		t.Fatalf("the container's securityContext is not restricted: %v", sc)
	}
	args := []string{"run", "--rm", "--name", name, "--network", "host", "--pull", "never",
		"--user", fmt.Sprintf("%v:%v", psc["runAsUser"], psc["runAsGroup"]),
		"--read-only", "--read-only-tmpfs=false", "--cap-drop", "all", "--security-opt", "no-new-privileges"}
	host, port := e.apiServer(t)
	args = append(args, "--env", "KUBERNETES_SERVICE_HOST="+host, "--env", "KUBERNETES_SERVICE_PORT="+port,
		"--volume", e.serviceAccountDir(t)+":"+saDir+":ro")
	for mount, dir := range e.mountDirs(t) {
		volume := dir + ":" + mount
		if mount != containerWorkDir(t, e.deploy) {
			volume += ":ro"
		}
		args = append(args, "--volume", volume)
	}
	// Only the listen address differs from the Deployment: the host's port
	// 8080 may be taken.
	return append(append(args, image), append(containerArgs(t, e.deploy), "--listen=127.0.0.1:0")...)
}

// containerWorkDir is the --work-dir the Deployment passes.
func containerWorkDir(t *testing.T, deploy *unstructured.Unstructured) string {
	t.Helper()
	for _, a := range containerArgs(t, deploy) {
		if dir, ok := strings.CutPrefix(a, "--work-dir="); ok {
			return dir
		}
	}
	t.Fatal("the Deployment passes no --work-dir")
	return ""
}

// apiServer is the local API server's host and port, as a pod's
// KUBERNETES_SERVICE_* variables give them.
func (e *env) apiServer(t *testing.T) (string, string) {
	t.Helper()
	u, err := url.Parse(e.c.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), u.Port()
}

// serviceAccountDir holds what the kubelet mounts at saDir: a token of the
// chart's ServiceAccount, the cluster's CA and the namespace.
func (e *env) serviceAccountDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mustChown(t, dir, 0o755)
	files := map[string][]byte{"token": []byte(e.token(t)), "ca.crt": e.c.Config.CAData, "namespace": []byte(releaseNamespace)}
	for name, data := range files {
		writeSecretFile(t, filepath.Join(dir, name), data)
	}
	return dir
}

// containersConf is the podman configuration make image uses.
func containersConf(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(repoRoot, "e2e", "image", "containers.conf"))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// containerPid is the host PID of the container's tether process.
func containerPid(t *testing.T, name string) int {
	t.Helper()
	cmd := exec.Command("podman", "inspect", "--format", "{{.State.Pid}}", name)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+containersConf(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("podman inspect %s: %v\n%s", name, err, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || pid == 0 {
		t.Fatalf("podman inspect %s: no PID in %q", name, out)
	}
	return pid
}

// checkConfinement reads the process's status and mounts from /proc: it must
// run as 65532:65532 with no capabilities and no privilege escalation, on a
// read-only root.
func checkConfinement(t *testing.T, pid int) {
	t.Helper()
	status := procFields(t, pid, "status")
	want := map[string]string{
		"Uid": "65532 65532 65532 65532", "Gid": "65532 65532 65532 65532",
		"CapEff": "0000000000000000", "CapBnd": "0000000000000000", // capabilities: drop ALL
		"NoNewPrivs": "1", // allowPrivilegeEscalation: false
	}
	for key, value := range want {
		if got := strings.Join(status[key], " "); got != value {
			t.Errorf("/proc/%d/status %s: %q, want %q", pid, key, got, value)
		}
	}
	root := procMount(t, pid, "/")
	if !slices.Contains(root, "ro") {
		t.Errorf("the root filesystem is mounted %v, want ro", root)
	}
}

// procFields reads a "Key:\tv1\tv2" file of /proc/<pid>.
func procFields(t *testing.T, pid int, file string) map[string][]string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if ok {
			out[key] = strings.Fields(rest)
		}
	}
	return out
}

// procMount returns the mount options of mountPoint as the process sees it.
func procMount(t *testing.T, pid int, mountPoint string) []string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == mountPoint {
			return strings.Split(f[5], ",")
		}
	}
	t.Fatalf("/proc/%d/mountinfo has no %s", pid, mountPoint)
	return nil
}
