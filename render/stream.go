package render

import (
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// WriteStream writes objs as a YAML stream, each document introduced by
// "---", in the order given. The output is byte-stable: keys are sorted.
func WriteStream(w io.Writer, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", o.GetKind(), o.GetName(), err)
		}
		if _, err := fmt.Fprintf(w, "---\n%s", data); err != nil {
			return err
		}
	}
	return nil
}

// WriteUnits writes the objects of every unit as one YAML stream, in the
// order tether applies them. Units with Err set are skipped; check them first.
func WriteUnits(w io.Writer, units []Unit) error {
	for _, u := range units {
		if u.Err != nil {
			continue
		}
		if err := WriteStream(w, u.Objects); err != nil {
			return fmt.Errorf("%s: %w", u.Source, err)
		}
	}
	return nil
}
