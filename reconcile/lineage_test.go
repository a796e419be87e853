package reconcile

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/source"
)

// trainedSpec trains on dataset and serves with replicas.
func trainedSpec(dataset string, replicas int) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: m}
spec:
  image: %s
  modelURI: s3://models/m/v7
  training: {command: [train], dataset: %q}
  serving: {port: 8080, replicas: %d}
`, imgA, dataset, replicas)
}

// TestLineage: /status traces a model to its commit (author, time), image
// digest, modelURI, dataset and training run with its outcome, and each
// object to the revision that produced it and when it was applied; the
// records keep it across a restart.
func TestLineage(t *testing.T) {
	f := newFixture(t)
	c1 := source.Commit{Author: "Ada <ada@example.com>", Time: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), Subject: "train on November's data"}
	c2 := source.Commit{Author: "Bob <bob@example.com>", Time: time.Date(2026, 11, 4, 9, 0, 0, 0, time.UTC), Subject: "three replicas"}
	f.src.commit = map[string]source.Commit{"rev1": c1, "rev2": c2}
	before := time.Now()
	f.pass("rev1", f.models(map[string]string{"m": trainedSpec("s3://data/m/2026-11", 1)}))
	run := ""
	for _, o := range f.unitStatusOf("m").Objects {
		if name, ok := strings.CutPrefix(o, "Job/"+f.ns+"/"); ok {
			run = name
		}
	}
	f.completeJob(run)

	f.pass("rev2", f.models(map[string]string{"m": trainedSpec("s3://data/m/2026-11", 3)}))
	st := f.unitStatusOf("m")
	lin := st.Lineage
	if lin == nil || lin.AppliedAt == nil || lin.AppliedAt.Before(before) {
		t.Fatalf("lineage = %+v, want one applied after %s", lin, before)
	}
	want := &LineageStatus{
		Commit:    &CommitStatus{Revision: "rev2", CommitInfo: CommitInfo{Author: c2.Author, Time: c2.Time, Subject: c2.Subject}},
		AppliedAt: lin.AppliedAt, Image: imgA, ImageDigest: imgA[len("registry.example.com/a@"):],
		ModelURI: "s3://models/m/v7", Dataset: "s3://data/m/2026-11",
		TrainingRun: &TrainingRunStatus{Name: run, Kind: "Job", Outcome: "Succeeded"},
	}
	if diff := cmp.Diff(want, lin); diff != "" {
		t.Errorf("lineage (-want +got):\n%s", diff)
	}
	revisions := map[string]string{}
	for _, o := range st.ObjectLineage {
		revisions[o.Object] = o.Revision
		if o.AppliedAt == nil || o.Commit == nil || (o.Revision == "rev1") != (o.Commit.Author == c1.Author) {
			t.Errorf("object lineage %+v", o)
		}
	}
	if revisions["Deployment/"+f.ns+"/m"] != "rev2" || revisions["Service/"+f.ns+"/m"] != "rev1" || revisions["Job/"+f.ns+"/"+run] != "rev1" {
		t.Errorf("object revisions = %v, want the Deployment at rev2, the Service and the Job at rev1", revisions)
	}

	f.start() // a new daemon reads the lineage from the record
	if got := f.unitStatusOf("m").Lineage; got == nil || got.Commit == nil || got.Commit.Author != c2.Author || got.Dataset != want.Dataset {
		t.Errorf("lineage after a restart = %+v", got)
	}
	recs, err := NewInventoryReader(f.loop.cfg.Applier, f.ns, f.instance).Records(f.ctx)
	if err != nil || len(recs) != 1 || recs[0].Lineage.Commits["rev1"].Author != c1.Author || recs[0].Lineage.TrainingRun != run {
		t.Fatalf("records = %+v (%v), want m's with its lineage", recs, err)
	}
	got := RecordsStatus(f.instance, recs)
	if u := got.Units[0]; u.State != StateUnknown || u.LastApplied != "rev2" || u.Lineage == nil || u.Lineage.Commit.Author != c2.Author ||
		u.Lineage.TrainingRun.Outcome != "Unknown" || len(u.ObjectLineage) != 3 || u.ObjectLineage[0].AppliedAt == nil {
		t.Errorf("status from the records = %+v", u)
	}
}

func TestModelStatusHandler(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1)}))
	mux := http.NewServeMux()
	mux.Handle("GET /status/models/{name}", f.loop.ModelStatusHandler())
	tests := []struct {
		path string
		code int
	}{
		{"/status/models/a", http.StatusOK},
		{"/status/models/nope", http.StatusNotFound},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != tt.code {
			t.Errorf("GET %s = %d, want %d: %s", tt.path, rec.Code, tt.code, rec.Body)
			continue
		}
		if tt.code != http.StatusOK {
			continue
		}
		var us UnitStatus
		if err := json.Unmarshal(rec.Body.Bytes(), &us); err != nil || us.Name != "a" || us.Lineage == nil || us.Lineage.Image != imgA {
			t.Errorf("GET %s: %+v (%v)", tt.path, us, err)
		}
	}
}
