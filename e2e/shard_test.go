package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// TestShardsSplitAndHandOver (issue 15): two daemons on one repository, one
// without --shard and one with --shard gpu, split the example models by the
// tether.dev/shard label; moving fraud-detector to shard gpu and back hands
// its objects and record over each time, nothing deleted or created again;
// each daemon's /status lists only its own models.
func TestShardsSplitAndHandOver(t *testing.T) {
	cs := clientset(t)
	ns := newNamespace(t, cs)
	repo, _ := exampleRepo(t)
	head := repo.Commit(map[string]string{"models/churn-scorer/model.yaml": onShard(t, "churn-scorer", "gpu")})
	deletions := watchDeletions(t, cs, ns)
	args := []string{"--repo", repo.Dir, "--interval", "1s", "--default-namespace", ns}
	plain := startDaemon(t, args...)
	gpu := startDaemon(t, append(args, "--shard", "gpu")...)
	waitShards(t, head, map[*daemon][]string{plain: {"fraud-detector"}, gpu: {"churn-scorer"}})
	uids := objectUIDs(t, cs, ns, "fraud-detector")
	if len(uids) != 3 {
		t.Fatalf("fraud-detector's objects: %v, want a Job, a Deployment and a Service", uids)
	}

	head = repo.Commit(map[string]string{"models/fraud-detector/model.yaml": onShard(t, "fraud-detector", "gpu")})
	waitShards(t, head, map[*daemon][]string{plain: nil, gpu: {"churn-scorer", "fraud-detector"}})
	checkOwner(t, cs, ns, gpu, plain, uids)

	head = repo.Commit(map[string]string{"models/fraud-detector/model.yaml": onShard(t, "fraud-detector", "")})
	waitShards(t, head, map[*daemon][]string{plain: {"fraud-detector"}, gpu: {"churn-scorer"}})
	checkOwner(t, cs, ns, plain, gpu, uids)
	if got := deletions(); len(got) > 0 {
		t.Errorf("objects deleted during the moves: %v", got)
	}
}

// onShard is the example model name labelled for shard ("" keeps it
// unlabelled).
func onShard(t *testing.T, name, shard string) string {
	t.Helper()
	data, err := os.ReadFile("../examples/models/models/" + name + "/model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if shard == "" {
		return string(data)
	}
	spec := strings.Replace(string(data), "  labels: {", "  labels: {tether.dev/shard: "+shard+", ", 1)
	if spec == string(data) {
		t.Fatalf("%s: no labels line to add the shard to", name)
	}
	return spec
}

// shardStatus is what the test reads of /status.
type shardStatus struct {
	Instance string `json:"instance"`
	Models   []struct {
		Name        string `json:"name"`
		LastApplied string `json:"lastAppliedRevision"`
	} `json:"models"`
}

func (d *daemon) status() (shardStatus, error) {
	var st shardStatus
	resp, err := http.Get("http://" + d.addr + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitShards waits until each daemon's /status lists exactly its models, all
// applied at revision head.
func waitShards(t *testing.T, head string, want map[*daemon][]string) {
	t.Helper()
	eventually(t, 60*time.Second, "each shard lists its models at "+head, func() (bool, error) {
		for d, models := range want {
			st, err := d.status()
			if err != nil {
				return false, err
			}
			var got []string
			for _, m := range st.Models {
				got = append(got, m.Name)
				if m.Name == "fraud-detector" && m.LastApplied != head {
					return false, fmt.Errorf("%s: %s applied at %s", st.Instance, m.Name, m.LastApplied)
				}
			}
			if !slices.Equal(got, models) {
				return false, fmt.Errorf("%s lists %v, want %v", st.Instance, got, models)
			}
		}
		return true, nil
	})
}

// checkOwner checks that fraud-detector's objects are the very objects of
// uids, labelled part-of the record owner keeps of it, and that other keeps
// no record of it.
func checkOwner(t *testing.T, cs kubernetes.Interface, ns string, owner, other *daemon, uids map[string]string) {
	t.Helper()
	ctx := context.Background()
	if got := objectUIDs(t, cs, ns, "fraud-detector"); !maps.Equal(got, uids) {
		t.Errorf("fraud-detector's objects %v, want the same objects %v", got, uids)
	}
	ownerSt, _ := owner.status()
	otherSt, _ := other.status()
	rec, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "tether-"+ownerSt.Instance+"-model-fraud-detector", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the new owner's record: %v", err)
	}
	dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "fraud-detector", metav1.GetOptions{})
	if err != nil || dep.Labels["applyset.kubernetes.io/part-of"] != rec.Labels["applyset.kubernetes.io/id"] {
		t.Errorf("Deployment part-of %q (%v), want the record's id %q", dep.Labels["applyset.kubernetes.io/part-of"], err, rec.Labels["applyset.kubernetes.io/id"])
	}
	eventually(t, 10*time.Second, "the old owner's record deleted", func() (bool, error) {
		_, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "tether-"+otherSt.Instance+"-model-fraud-detector", metav1.GetOptions{})
		return err != nil, nil
	})
}

// objectUIDs lists model's Jobs, Deployments and Services as Kind/name → UID.
func objectUIDs(t *testing.T, cs kubernetes.Interface, ns, model string) map[string]string {
	t.Helper()
	ctx, opts := context.Background(), metav1.ListOptions{LabelSelector: "tether.dev/model=" + model}
	out := map[string]string{}
	jobs, err1 := cs.BatchV1().Jobs(ns).List(ctx, opts)
	deps, err2 := cs.AppsV1().Deployments(ns).List(ctx, opts)
	svcs, err3 := cs.CoreV1().Services(ns).List(ctx, opts)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	for _, j := range jobs.Items {
		out["Job/"+j.Name] = string(j.UID)
	}
	for _, d := range deps.Items {
		out["Deployment/"+d.Name] = string(d.UID)
	}
	for _, s := range svcs.Items {
		out["Service/"+s.Name] = string(s.UID)
	}
	return out
}

// watchDeletions records every Job, Deployment and Service deleted in ns.
func watchDeletions(t *testing.T, cs kubernetes.Interface, ns string) func() []string {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var mu sync.Mutex
	var deleted []string
	for kind, w := range map[string]func() (watch.Interface, error){
		"Job":        func() (watch.Interface, error) { return cs.BatchV1().Jobs(ns).Watch(ctx, metav1.ListOptions{}) },
		"Deployment": func() (watch.Interface, error) { return cs.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{}) },
		"Service":    func() (watch.Interface, error) { return cs.CoreV1().Services(ns).Watch(ctx, metav1.ListOptions{}) },
	} {
		wi, err := w()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for ev := range wi.ResultChan() {
				if ev.Type == watch.Deleted {
					obj, _ := ev.Object.(metav1.Object)
					mu.Lock()
					deleted = append(deleted, kind+"/"+obj.GetName())
					mu.Unlock()
				}
			}
		}()
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(deleted)
	}
}
