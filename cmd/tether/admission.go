package main

import (
	"bufio"

	"github.com/spf13/cobra"

	"github.com/tether-ml/tether/reconcile/admission"
)

const admissionExample = `  # Deny changes by anyone but tether, kube-system's controllers and dry runs
  tether admission-policy --service-account tether-system/tether | kubectl apply -f -

  # Only warn, and let the on-call group through
  tether admission-policy --service-account tether-system/tether --mode warn \
    --exempt-group tether:break-glass --exempt-user deploy-bot

  # Also protect the ConfigMaps and Ingresses that model overlays add
  tether admission-policy --service-account tether-system/tether \
    --resource configmaps --resource networking.k8s.io/ingresses`

func newAdmissionPolicyCommand() *cobra.Command {
	var opts admission.Options
	cmd := &cobra.Command{
		Use:   "admission-policy --service-account NAMESPACE/NAME",
		Short: "Print the admission policy that stops drift on protected models",
		Long: `Print a ValidatingAdmissionPolicy and its binding (both named ` + admission.Name + `) that make the API server
refuse UPDATE and DELETE of objects labelled tether.dev/protect=true (models with spec.protect: true, or
protect: true in tether.yaml) unless tether's ServiceAccount, kube-system's controllers, a dry run or an
exempt user or group asks, or the object is already being deleted. Scaling (the /scale subresource) and
status writes stay allowed. The message of a refusal names the model, its folder in Git and how to change
it. Apply the output with kubectl; break-glass: an --exempt-group, or delete the binding.`,
		Example: admissionExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			policy, binding, err := admission.Policy(opts)
			if err != nil {
				return usagef("%s%v", commandPrefix(cmd), err)
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			if err := admission.Write(w, policy, binding); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&opts.ServiceAccounts, "service-account", nil, "tether's ServiceAccount as `NAMESPACE/NAME`, the identity that may change protected objects; repeat for several tether instances")
	setGroup(fs, groupCluster, "service-account")
	fs.StringVar(&opts.Mode, "mode", admission.ModeDeny, "what a change by anyone else gets: deny (refused), warn (allowed, with a warning to the client) or audit (allowed, recorded in the audit log)")
	fs.StringArrayVar(&opts.ExemptUsers, "exempt-user", nil, "`USER` who may change protected objects too (repeatable)")
	fs.StringArrayVar(&opts.ExemptGroups, "exempt-group", nil, "`GROUP` whose members may change protected objects: the break-glass (repeatable)")
	fs.StringArrayVar(&opts.Resources, "resource", nil, "also protect `GROUP/RESOURCE` (or RESOURCE for the core group), e.g. networking.k8s.io/ingresses that an overlay adds (repeatable)")
	setGroup(fs, groupDrift, "mode", "exempt-user", "exempt-group", "resource")
	if err := cmd.MarkFlagRequired("service-account"); err != nil {
		panic(err) // a programming error
	}
	registerCompletion(cmd, "mode", completeWords(admission.ModeDeny, admission.ModeWarn, admission.ModeAudit))
	return cmd
}
