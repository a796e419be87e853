package cluster

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// Fake nodes carry this annotation, and kwok manages only nodes that do.
const (
	kwokAnnotation = "kwok.x-k8s.io/node"
	kwokManaged    = "fake"
)

// ports are the loopback ports one cluster listens on. The controller
// manager, scheduler and kwok serve nothing, so they need none.
type ports struct {
	etcdClient, etcdPeer, apiserver int
}

func (pt ports) etcdURL() string      { return "http://127.0.0.1:" + strconv.Itoa(pt.etcdClient) }
func (pt ports) etcdPeerURL() string  { return "http://127.0.0.1:" + strconv.Itoa(pt.etcdPeer) }
func (pt ports) apiserverURL() string { return "https://127.0.0.1:" + strconv.Itoa(pt.apiserver) }

// Paths inside a state dir.
func pkiPath(dir, name string) string { return filepath.Join(dir, "pki", name) }

func kubeconfigPath(dir string) string { return filepath.Join(dir, "kubeconfig") }

// etcdArgs runs a single member on loopback. --unsafe-no-fsync trades
// durability, which a test cluster does not need, for start and write speed.
func etcdArgs(dir string, pt ports) []string {
	return []string{
		"--name=tether-e2e",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + pt.etcdURL(),
		"--advertise-client-urls=" + pt.etcdURL(),
		"--listen-peer-urls=" + pt.etcdPeerURL(),
		"--initial-advertise-peer-urls=" + pt.etcdPeerURL(),
		"--initial-cluster=tether-e2e=" + pt.etcdPeerURL(),
		"--unsafe-no-fsync",
		"--log-level=warn",
	}
}

// apiserverArgs serves TLS on loopback only, trusts client certificates from
// the cluster CA and enforces RBAC. --endpoint-reconciler-type=none skips
// publishing 127.0.0.1 as the kubernetes Service's endpoint.
func apiserverArgs(dir string, pt ports) []string {
	return []string{
		"--etcd-servers=" + pt.etcdURL(),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(pt.apiserver),
		"--cert-dir=" + filepath.Join(dir, "pki"),
		"--client-ca-file=" + pkiPath(dir, "ca.crt"),
		"--tls-cert-file=" + pkiPath(dir, "apiserver.crt"),
		"--tls-private-key-file=" + pkiPath(dir, "apiserver.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pkiPath(dir, "sa.pub"),
		"--service-account-signing-key-file=" + pkiPath(dir, "sa.key"),
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=Node,RBAC",
		"--audit-policy-file=" + auditPolicyPath(dir),
		"--audit-log-path=" + filepath.Join(dir, "logs", "audit.log"),
		"--audit-log-maxsize=200",
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
	}
}

// controllerManagerArgs runs every default controller, each under its own
// service account, without serving HTTPS or electing a leader. Client rates
// stay at the upstream defaults (20 QPS, burst 30; the scheduler's 50/100), as
// in a kubeadm or kind cluster. Raised, the controllers' reaction to a
// thousand new Deployments and Jobs competes for this machine's two cores with
// the client under test far harder than a default control plane would.
func controllerManagerArgs(dir string) []string {
	return []string{
		"--kubeconfig=" + pkiPath(dir, "controller-manager.kubeconfig"),
		"--secure-port=0",
		"--leader-elect=false",
		"--controllers=*",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + pkiPath(dir, "sa.key"),
		"--root-ca-file=" + pkiPath(dir, "ca.crt"),
		"--cluster-signing-cert-file=" + pkiPath(dir, "ca.crt"),
		"--cluster-signing-key-file=" + pkiPath(dir, "ca.key"),
		"--service-cluster-ip-range=" + serviceCIDR,
	}
}

func schedulerArgs(dir string) []string {
	return []string{
		"--kubeconfig=" + pkiPath(dir, "scheduler.kubeconfig"),
		"--secure-port=0",
		"--leader-elect=false",
	}
}

// kwokArgs manages only annotated nodes and reads its stages from the bin
// dir. With no --server-address it opens no port. Pod IPs come from a range
// apart from the service range.
func kwokArgs(dir, binDir string) []string {
	args := []string{
		"--kubeconfig=" + kubeconfigPath(dir),
		"--manage-all-nodes=false",
		fmt.Sprintf("--manage-nodes-with-annotation-selector=%s=%s", kwokAnnotation, kwokManaged),
		"--cidr=10.244.0.0/16",
	}
	for _, name := range stageFiles {
		args = append(args, "--config="+filepath.Join(binDir, "stages", filepath.Base(name)))
	}
	return args
}

// kwokEnv points HOME into the state dir so a ~/.kwok/kwok.yaml on the
// machine cannot add stages or options.
func kwokEnv(dir string) []string {
	return []string{"HOME=" + filepath.Join(dir, "kwok")}
}
