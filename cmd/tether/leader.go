package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tether-ml/tether/reconcile"
)

// serviceAccountNamespace is where a pod's namespace is mounted.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// haFlags are the flags of `tether run` for running several replicas.
type haFlags struct {
	leaderElect          bool
	namespace, advertise string
	lease, renew, retry  time.Duration
	recordEvents         bool
}

func (h *haFlags) register(fs *pflag.FlagSet) {
	d := reconcile.DefaultLeaseTiming
	fs.BoolVar(&h.leaderElect, "leader-elect", false, "elect one writer among replicas with the Lease tether-<instance>; standbys neither apply nor watch, and forward webhooks to the leader")
	fs.StringVar(&h.namespace, "leader-elect-namespace", "", "namespace of the Lease (default: the pod's namespace, else --inventory-namespace)")
	fs.DurationVar(&h.lease, "leader-elect-lease-duration", d.LeaseDuration, "how long a standby waits after the leader's last renewal before it takes over")
	fs.DurationVar(&h.renew, "leader-elect-renew-deadline", d.RenewDeadline, "how long the leader keeps trying to renew before it stops (and exits); it writes only while its last renewal is younger than this")
	fs.DurationVar(&h.retry, "leader-elect-retry-period", d.RetryPeriod, "how often the leader renews and a standby tries to take over")
	fs.StringVar(&h.advertise, "advertise-address", "", "HOST:PORT where other replicas reach this one's --listen, for forwarded webhooks (default: $POD_IP and the --listen port)")
	fs.BoolVar(&h.recordEvents, "record-events", true, "record drift, prune, apply and model errors as Kubernetes Events on the objects and inventory records concerned")
	setGroup(fs, groupHA, "leader-elect", "leader-elect-namespace", "leader-elect-lease-duration", "leader-elect-renew-deadline",
		"leader-elect-retry-period", "advertise-address", "record-events")
}

// check validates the timing: client-go refuses anything else.
func (h *haFlags) check() error {
	if h.leaderElect && (h.lease <= h.renew || h.renew <= h.retry || h.retry <= 0) {
		return usagef("run: --leader-elect-lease-duration (%s) > --leader-elect-renew-deadline (%s) > --leader-elect-retry-period (%s) > 0 is required",
			h.lease, h.renew, h.retry)
	}
	return nil
}

// identity names this replica: its host name and where it is reached.
func (h *haFlags) identity(listen string) string {
	host, _ := os.Hostname()
	addr := h.advertise
	if addr == "" {
		ip, port, _ := net.SplitHostPort(listen)
		if pod := os.Getenv("POD_IP"); pod != "" {
			ip = pod
		} else if ip == "" || ip == "::" || ip == "0.0.0.0" {
			ip = host
		}
		addr = net.JoinHostPort(ip, port)
	}
	return reconcile.Identity(host, addr)
}

// leadership is the election of this daemon's Lease, nil without --leader-elect.
func (h *haFlags) leadership(cfg *rest.Config, instance, inventoryNamespace, identity string) (*reconcile.Leadership, error) {
	if !h.leaderElect {
		return nil, nil
	}
	ns := h.namespace
	if ns == "" {
		ns = podNamespace(inventoryNamespace)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	l, err := reconcile.NewLeadership(cs, ns, instance, identity, reconcile.LeaseTiming{LeaseDuration: h.lease, RenewDeadline: h.renew, RetryPeriod: h.retry})
	if err != nil {
		return nil, usagef("run: %v", err)
	}
	return l, nil
}

// podNamespace is the namespace this pod runs in, or fallback outside a pod.
func podNamespace(fallback string) string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if b, err := os.ReadFile(serviceAccountNamespace); err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b))
	}
	return fallback
}

// userAgent tells the API server (and its audit log) which replica sent a request.
func userAgent(identity string) string { return fmt.Sprintf("tether/%s (%s)", version, identity) }
