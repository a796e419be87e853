package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/reconcile"
)

var statusNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// exampleStatus has a ready model with drift and lineage, a held one and an
// invalid one.
func exampleStatus() reconcile.Status {
	applied := statusNow.Add(-90 * time.Minute)
	opens := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	return reconcile.Status{Instance: "models-1a2b3c", Revision: "9e1b7d3f5a2c44", Ready: true, Units: []reconcile.UnitStatus{
		{Name: "fraud-detector", Kind: "model", State: reconcile.HealthReady, Health: reconcile.HealthReady, LastApplied: "4f0c1e9a7b2d8c6e",
			LastDrift: &reconcile.DriftStatus{Object: "Deployment/ml/fraud-detector", Action: "reverted", Time: statusNow.Add(-2 * time.Minute)},
			Lineage: &reconcile.LineageStatus{
				Commit:    &reconcile.CommitStatus{Revision: "4f0c1e9a7b2d8c6e", CommitInfo: reconcile.CommitInfo{Author: "Ada <ada@example.com>", Time: applied.Add(-time.Hour), Subject: "November's data"}},
				AppliedAt: &applied, Image: "registry.example.com/fraud@sha256:9f86", ImageDigest: "sha256:9f86",
				ModelURI: "s3://models/fraud/v7", Dataset: "s3://data/fraud/2026-11",
				TrainingRun: &reconcile.TrainingRunStatus{Name: "fraud-detector-train-0a1b2c3d4e", Kind: "Job", Outcome: "Succeeded"},
			},
			ObjectLineage: []reconcile.ObjectStatus{{Object: "Deployment/ml/fraud-detector", Revision: "4f0c1e9a7b2d8c6e",
				Commit: &reconcile.CommitInfo{Author: "Ada <ada@example.com>"}, AppliedAt: &applied}},
		},
		{Name: "ranker", Kind: "model", State: reconcile.StateSyncBlocked, Health: reconcile.HealthReady, LastApplied: "4f0c1e9a7b2d8c6e",
			SyncBlocked: &reconcile.SyncBlockedStatus{Windows: []string{`deny "0 18 * * 5" for 62h`}, Revision: "9e1b7d3f5a2c44",
				Since: statusNow.Add(-time.Hour), Opens: &opens}},
		{Name: "churn", Kind: "model", State: reconcile.HealthInvalid, LastError: "models/churn/model.yaml:5: spec.image: is required\nmore"},
	}}
}

func TestStatusTable(t *testing.T) {
	var out bytes.Buffer
	if err := writeStatus(&out, "table", exampleStatus(), statusNow); err != nil {
		t.Fatal(err)
	}
	want := `NAME             KIND    STATE         REVISION       APPLIED   LAST DRIFT                                     MESSAGE
fraud-detector   model   Ready         4f0c1e9a7b2d   90m       2m ago reverted Deployment/ml/fraud-detector
ranker           model   SyncBlocked   4f0c1e9a7b2d   -         -                                              revision 9e1b7d3f5a2c held by deny "0 18 * * 5" for 62h until 2026-11-30T08:00:00Z
churn            model   Invalid       -              -         -                                              models/churn/model.yaml:5: spec.image: is required
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestStatusOfOneModel(t *testing.T) {
	var out bytes.Buffer
	if err := writeUnitStatus(&out, "table", exampleStatus().Units[0], statusNow); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Name:          fraud-detector (model)",
		"Commit:        Ada <ada@example.com>, 2026-11-27T09:30:00Z (150m ago): November's data",
		"Applied:       2026-11-27T10:30:00Z (90m ago)",
		"Image digest:  sha256:9f86",
		"Dataset:       s3://data/fraud/2026-11",
		"Training run:  Job fraud-detector-train-0a1b2c3d4e: Succeeded",
		"  Deployment/ml/fraud-detector   4f0c1e9a7b2d   Ada <ada@example.com>   90m",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestStatusFromDaemon: --addr reads /status, and /status/models/NAME for
// one model; an unknown model is an error (exit 1), a bad invocation exit 2.
func TestStatusFromDaemon(t *testing.T) {
	st := exampleStatus()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(st) })
	mux.HandleFunc("GET /status/models/{name}", func(w http.ResponseWriter, r *http.Request) {
		for _, u := range st.Units {
			if u.Name == r.PathValue("name") {
				_ = json.NewEncoder(w).Encode(u)
				return
			}
		}
		http.Error(w, `no model or bundle named "`+r.PathValue("name")+`"`, http.StatusNotFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring
		stderr string // a substring
	}{
		{"every model", []string{"status", "--addr", srv.URL}, 0, "ranker           model   SyncBlocked", ""},
		{"without a scheme", []string{"status", "--addr", strings.TrimPrefix(srv.URL, "http://")}, 0, "fraud-detector", ""},
		{"json", []string{"status", "--addr", srv.URL, "-o", "json"}, 0, `"state": "SyncBlocked"`, ""},
		{"one model", []string{"status", "fraud-detector", "--addr", srv.URL}, 0, "Training run:  Job fraud-detector-train-0a1b2c3d4e: Succeeded", ""},
		{"unknown model", []string{"status", "nope", "--addr", srv.URL}, 1, "", `404 Not Found: no model or bundle named "nope"`},
		{"addr and kubeconfig", []string{"status", "--addr", srv.URL, "--kubeconfig", "x"}, 2, "", "give one or the other"},
		{"bad output", []string{"status", "--addr", srv.URL, "-o", "yaml"}, 2, "", `--output "yaml": expected table or json`},
		{"two models", []string{"status", "a", "b"}, 2, "", "expected at most one model"},
		{"not a URL", []string{"status", "--addr", "http://"}, 2, "", "expected a URL such as http://localhost:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, %q on stdout, %q on stderr", code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}
