package reconcile

import (
	"context"
	"log/slog"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// TestOnceDrainsAnInventory: a fresh loop driven by Once reads what another
// loop of the same instance recorded, and a pass rendering nothing (mass
// prunes allowed) deletes every object and record: how a preview is torn
// down, also after a restart.
func TestOnceDrainsAnInventory(t *testing.T) {
	f := newFixture(t)
	f.pass("r1", f.models(map[string]string{"a": servingSpec("a", "registry.example.com/a:v1", 1)}))
	if deps, _ := f.cs.AppsV1().Deployments(f.ns).List(f.ctx, metav1.ListOptions{}); len(deps.Items) != 1 {
		t.Fatalf("setup: %d Deployments, want 1", len(deps.Items))
	}
	f.stop()

	applier, err := NewApplier(cluster.Shared().Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	drain := NewLoop(Config{
		Source: &fakeSource{rev: "r2"}, Applier: applier, Inventory: NewInventory(applier, f.ns, f.instance),
		Render: func(source.Snapshot, render.Hooks) (*render.Result, error) {
			return &render.Result{Settings: render.Settings{AllowMassPrune: true}}, nil
		},
		Interval: time.Second, Prune: true, MaxPrune: PruneLimit{Percent: 50},
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	drain.Once(ctx)
	if units := drain.Units(); len(units) != 0 {
		t.Errorf("after a pass rendering nothing, units %v remain", units)
	}
	deps, _ := f.cs.AppsV1().Deployments(f.ns).List(ctx, metav1.ListOptions{})
	records, _ := f.cs.CoreV1().ConfigMaps(f.ns).List(ctx, metav1.ListOptions{LabelSelector: LabelInventory})
	if len(deps.Items)+len(records.Items) != 0 {
		t.Errorf("after draining: %d Deployments, %d records; want none", len(deps.Items), len(records.Items))
	}
	inv := NewInventory(applier, f.ns, f.instance)
	if err := inv.Forget(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cs.CoreV1().Secrets(f.ns).Get(ctx, hashKeyName(f.instance), metav1.GetOptions{}); !isNotFound(err) {
		t.Errorf("after Forget, the hash key: %v; want it deleted", err)
	}
}

// TestForgetKeepsTheKeyOfRecords: an instance with records keeps its key.
func TestForgetKeepsTheKeyOfRecords(t *testing.T) {
	f := newFixture(t)
	f.pass("r1", f.models(map[string]string{"a": servingSpec("a", "registry.example.com/a:v1", 1)}))
	if err := f.loop.cfg.Inventory.Forget(f.ctx); err == nil {
		t.Fatal("Forget with a record left succeeded")
	}
	if _, err := f.cs.CoreV1().Secrets(f.ns).Get(f.ctx, hashKeyName(f.instance), metav1.GetOptions{}); err != nil {
		t.Errorf("the hash key of an instance with records: %v", err)
	}
}
