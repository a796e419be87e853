package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-ml/tether/reconcile"
)

// statusFlags are the flags of `tether status`.
type statusFlags struct {
	addr                  string
	kubeconfig, namespace string
	instance              string
	output                string
}

const statusExample = `  # Every model, from a daemon (kubectl port-forward -n tether-system svc/tether 8080)
  tether status --addr http://localhost:8080

  # One model with its lineage: commit, image digest, modelURI, dataset, training run
  tether status fraud-detector --addr http://localhost:8080

  # Without a daemon: what the inventory records in namespace ml say
  tether status --kubeconfig ~/.kube/config --namespace ml

  # For tools
  tether status --addr http://localhost:8080 -o json | jq '.models[] | select(.state != "Ready")'`

func newStatusCommand() *cobra.Command {
	f := &statusFlags{}
	cmd := &cobra.Command{
		Use:   "status [MODEL]",
		Short: "Show each model's state, revision, lineage and last drift",
		Long: `Print one line per model and bundle, as flux get kustomizations does: its state (Ready,
Progressing, Failed, Suspended, Invalid or SyncBlocked), the revision last applied, when, and the last
drift. With MODEL, print that model's lineage too: the commit (author, time), image digest, modelURI,
dataset, the training run and its outcome, and each object's revision.

With --addr the daemon's /status is read. Without it, the inventory records in --namespace are read
with --kubeconfig (or in the cluster): they know what was applied and when, not its health, so the
state is Unknown. The exit code is 0 whatever the states are (as flux's); 1 on an error.`,
		Example: statusExample,
		Args:    maxOneModel,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return runStatus(cmd.Context(), f, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "", "the daemon's `URL` (its --listen), e.g. http://localhost:8080; without it the inventory records are read")
	setGroup(fs, groupServer, "addr")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` for reading records without --addr (default: the in-cluster service account)")
	fs.StringVar(&f.namespace, "namespace", "default", "namespace of the inventory records (the daemon's --inventory-namespace), without --addr")
	fs.StringVar(&f.instance, "instance", "", "the daemon's --instance whose records are read, without --addr (default: the only instance with records in --namespace)")
	setGroup(fs, groupCluster, "kubeconfig", "namespace", "instance")
	fs.StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	setGroup(fs, groupOutput, "output")
	registerCompletion(cmd, "output", completeWords("table", "json"))
	_ = cmd.MarkFlagFilename("kubeconfig")
	return cmd
}

// maxOneModel is the argument check of tether status.
func maxOneModel(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usagef("%sexpected at most one model, got %d arguments", commandPrefix(cmd), len(args))
	}
	return nil
}

// check validates what the flags' types do not.
func (f *statusFlags) check() error {
	if f.output != "table" && f.output != "json" {
		return usagef("status: --output %q: expected table or json", f.output)
	}
	if f.addr != "" && (f.kubeconfig != "" || f.instance != "") {
		return usagef("status: --addr reads the daemon; --kubeconfig and --instance read the records: give one or the other")
	}
	if f.addr != "" {
		if !strings.Contains(f.addr, "://") {
			f.addr = "http://" + f.addr
		}
		if u, err := url.Parse(f.addr); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("status: --addr %q: expected a URL such as http://localhost:8080", f.addr)
		}
	}
	return nil
}

// runStatus reads the status from the daemon or the records and prints it.
func runStatus(ctx context.Context, f *statusFlags, args []string, stdout, stderr io.Writer) error {
	if f.addr != "" && len(args) == 1 {
		var u reconcile.UnitStatus
		if err := getJSON(ctx, f.addr, "/status/models/"+url.PathEscape(args[0]), &u); err != nil {
			return err
		}
		return writeUnitStatus(stdout, f.output, u, time.Now())
	}
	var st reconcile.Status
	var err error
	if f.addr != "" {
		err = getJSON(ctx, f.addr, "/status", &st)
	} else {
		st, err = recordsStatus(ctx, f)
		if err == nil && f.output == "table" {
			fmt.Fprintf(stderr, "read from the inventory records of instance %s in namespace %s: health needs the daemon (--addr)\n", st.Instance, f.namespace)
		}
	}
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return writeStatus(stdout, f.output, st, time.Now())
	}
	for _, u := range st.Units {
		if u.Name == args[0] {
			return writeUnitStatus(stdout, f.output, u, time.Now())
		}
	}
	return fmt.Errorf("no model or bundle named %q (instance %s)", args[0], st.Instance)
}

// getJSON reads path from the daemon at addr into v.
func getJSON(ctx context.Context, addr, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	endpoint := strings.TrimSuffix(addr, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", endpoint, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: not tether's status: %w", endpoint, err)
	}
	return nil
}

// recordsStatus reads the inventory records of the daemon's instance.
func recordsStatus(ctx context.Context, f *statusFlags) (reconcile.Status, error) {
	cfg, err := restConfig("status", f.kubeconfig, 50, 100)
	if err != nil {
		return reconcile.Status{}, err
	}
	applier, err := reconcile.NewApplier(cfg)
	if err != nil {
		return reconcile.Status{}, err
	}
	instance := f.instance
	if instance == "" {
		found, err := reconcile.Instances(ctx, applier, f.namespace)
		switch {
		case err != nil:
			return reconcile.Status{}, err
		case len(found) == 0:
			return reconcile.Status{}, fmt.Errorf("no inventory records in namespace %s: is it the daemon's --inventory-namespace?", f.namespace)
		case len(found) > 1:
			return reconcile.Status{}, fmt.Errorf("records of several daemons in %s (%s): say which with --instance", f.namespace, strings.Join(found, ", "))
		}
		instance = found[0]
	}
	units, err := reconcile.NewInventoryReader(applier, f.namespace, instance).Records(ctx)
	if err != nil {
		return reconcile.Status{}, err
	}
	return reconcile.RecordsStatus(instance, units), nil
}
