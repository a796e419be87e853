package plan

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
)

// Action is what merging does to one object.
type Action string

// Actions on objects.
const (
	ActionCreate    Action = "create"
	ActionUpdate    Action = "update"
	ActionDelete    Action = "delete" // pruned
	ActionUnchanged Action = "unchanged"
	// ActionRetain is a training Job the head no longer renders: a previous
	// run, kept until keepRuns retires it, never deleted by the merge itself.
	ActionRetain Action = "retain"
)

// Status is what merging does to one model or bundle.
type Status string

// Statuses of units.
const (
	StatusAdded     Status = "added"
	StatusChanged   Status = "changed"
	StatusRemoved   Status = "removed"
	StatusUnchanged Status = "unchanged"
	StatusInvalid   Status = "invalid"   // the head's spec is invalid: nothing of it is applied or pruned
	StatusSuspended Status = "suspended" // spec.suspend: nothing is applied or pruned
)

// Exit codes, as terraform plan -detailed-exitcode.
const (
	ExitNoChanges = 0
	ExitFailed    = 1 // invalid spec, error, immutable-field conflict, blocked mass prune
	ExitChanges   = 2
)

// Plan is what merging the head revision into the base would do.
type Plan struct {
	Base    RevisionRef `json:"base"` // the merge base of the base ref and the head
	Head    RevisionRef `json:"head"`
	Path    string      `json:"path,omitempty"`
	Models  []string    `json:"models,omitempty"` // the --model selection; empty: all
	Cluster bool        `json:"cluster"`          // diffed against the live cluster
	Summary string      `json:"summary"`
	// ExitCode is 0 (nothing changes), 2 (something changes) or 1 (blocked).
	ExitCode  int      `json:"exitCode"`
	Errors    []string `json:"errors,omitempty"` // problems of the revision as a whole
	Warnings  []string `json:"warnings,omitempty"`
	Units     []Unit   `json:"units"`
	Guard     Guard    `json:"pruneGuard"`
	Resources Change   `json:"resources"` // totals over the units shown
}

// RevisionRef names one revision: the ref as given and its commit.
type RevisionRef struct {
	Ref    string `json:"ref"`
	Commit string `json:"commit"`
}

// Unit is what merging does to one model or bundle.
type Unit struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"` // model or bundle
	Source    string   `json:"source"`
	Namespace string   `json:"namespace,omitempty"`
	Status    Status   `json:"status"`
	Errors    []string `json:"errors,omitempty"` // the head's validation errors, file:line first
	Warnings  []string `json:"warnings,omitempty"`
	Notes     []string `json:"notes,omitempty"`
	Objects   []Object `json:"objects"` // unchanged ones too
	Resources Change   `json:"resources"`
}

// Object is what merging does to one object.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	Action     Action `json:"action"`
	// Diff is a unified diff of the object's YAML (base or live → head),
	// Secret values shown as <hidden>.
	Diff  string   `json:"diff,omitempty"`
	Notes []string `json:"notes,omitempty"`
	// Blockers say why the API server would refuse the change (immutable
	// fields; with --cluster, whatever its dry-run refused).
	Blockers []string `json:"blockers,omitempty"`
	// Error is a --cluster check that failed otherwise (never "no change").
	Error string `json:"error,omitempty"`
	// Drift is live drift the merge would undo (--cluster): fields another
	// manager changed, with Git's value and the live one.
	Drift []FieldChange `json:"drift,omitempty"`
	// DriftUndone: the live object differs from Git where the head leaves it
	// unchanged, so applying undoes a change made in the cluster.
	DriftUndone bool `json:"driftUndone,omitempty"`
}

// FieldChange is one drifted field: Git's value, the live one and who set it.
type FieldChange struct {
	Path    string `json:"path"`
	Git     any    `json:"git"`
	Live    any    `json:"live"`
	Removed bool   `json:"removed,omitempty"`
	Manager string `json:"manager,omitempty"`
}

// Guard is the mass-deletion guard's verdict on the head revision.
type Guard struct {
	Deletions      int    `json:"deletions"`
	Managed        int    `json:"managed"`
	Limit          string `json:"limit"` // --max-prune
	AllowMassPrune bool   `json:"allowMassPrune,omitempty"`
	Blocked        bool   `json:"blocked"`
	Reason         string `json:"reason,omitempty"`
}

// Key is the object's identity as reconcile knows it.
func (o *Object) Key() reconcile.Key {
	gv, _ := schema.ParseGroupVersion(o.APIVersion)
	return reconcile.Key{Group: gv.Group, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// String is Kind/namespace/name.
func (o *Object) String() string { k := o.Key(); return k.String() }

// changes reports whether merging changes the object in the cluster.
func (o *Object) changes() bool {
	switch o.Action {
	case ActionCreate, ActionUpdate, ActionDelete:
		return true
	}
	return o.DriftUndone || len(o.Drift) > 0
}

// blocked reports whether applying the object would fail.
func (o *Object) blocked() bool { return len(o.Blockers) > 0 || o.Error != "" }

// retainNote explains a previous training run that a merge keeps.
const retainNote = "a previous training run: kept; keepRuns deletes finished runs, oldest first, once newer runs finish"

// isRun reports whether k is a Job: the daemon treats every Job of a unit as
// a training run, content-addressed and retired by keepRuns.
func isRun(k reconcile.Key) bool { return k.Group == "batch" && k.Kind == "Job" }

// errorLines splits an error into its lines: render.Errors holds one
// file:line: field: message per line.
func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// unitKind is "model" or "bundle".
func unitKind(u *render.Unit) string {
	if u.Kind == "" {
		return render.KindModelUnit
	}
	return u.Kind
}
