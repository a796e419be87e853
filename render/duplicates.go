package render

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// rejectDuplicates fails every unit involved in a clash: two units with the
// same name (a bundle named like a model), or one object rendered by two units
// (an overlay's nameSuffix, a bundle shipping a model's Service). Ownership
// would be ambiguous, so none of them is applied and their live objects stay
// as last applied until the clash is fixed. objs[i] are the objectKeys of
// units[i] (whose Objects a reused unit does not carry).
func rejectDuplicates(units []Unit, objs [][]string) {
	clashes := map[int][]string{}
	byName := map[string][]int{}
	for i, u := range units {
		byName[u.Name] = append(byName[u.Name], i)
	}
	for name, idx := range byName {
		for _, i := range clashing(idx) {
			clashes[i] = append(clashes[i], fmt.Sprintf("name %q is also the name of %s", name, others(units, idx, i)))
		}
	}
	owners := map[string][]int{}
	for i, u := range units {
		if u.Err != nil {
			continue
		}
		for _, k := range objs[i] {
			if idx := owners[k]; len(idx) == 0 || idx[len(idx)-1] != i {
				owners[k] = append(owners[k], i)
			}
		}
	}
	for k, idx := range owners {
		for _, i := range clashing(idx) {
			clashes[i] = append(clashes[i], fmt.Sprintf("%s is also rendered by %s", k, others(units, idx, i)))
		}
	}
	for i, msgs := range clashes {
		sort.Strings(msgs)
		fail(&units[i], msgs)
	}
}

// clashing returns idx when it names more than one unit.
func clashing(idx []int) []int {
	if len(idx) < 2 {
		return nil
	}
	return idx
}

func others(units []Unit, idx []int, self int) string {
	var sources []string
	for _, i := range idx {
		if i != self {
			sources = append(sources, units[i].Source)
		}
	}
	return strings.Join(sources, ", ")
}

// objectKey identifies an object in the cluster: Kind[.group]/namespace/name.
func objectKey(o *unstructured.Unstructured) string {
	kind := o.GetKind()
	if g := o.GroupVersionKind().Group; g != "" {
		kind += "." + g
	}
	if ns := o.GetNamespace(); ns != "" {
		return kind + "/" + ns + "/" + o.GetName()
	}
	return kind + "/" + o.GetName()
}

func objectKeys(objs []*unstructured.Unstructured) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = objectKey(o)
	}
	return out
}

// fail adds unit-level problems to u's errors and drops its objects.
func fail(u *Unit, msgs []string) {
	errs, _ := u.Err.(Errors)
	if u.Err != nil && errs == nil {
		errs = Errors{{File: u.Source, Msg: u.Err.Error()}}
	}
	for _, msg := range msgs {
		errs = append(errs, &FieldError{File: u.Source, Msg: msg})
	}
	u.Err, u.Objects, u.Hash = errs, nil, ""
}
