package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaseTiming is how leader election paces itself: a leader renews every
// RetryPeriod and gives up when it could not for RenewDeadline; a standby
// takes over LeaseDuration after the last renewal it saw, or at its next try
// when the leader released the Lease on its way out.
type LeaseTiming struct {
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// DefaultLeaseTiming hands over within about a second and a half of a
// release; a crashed leader is replaced after 15 s.
var DefaultLeaseTiming = LeaseTiming{LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: time.Second}

// ErrLostLeadership ends a leader that could not renew its Lease: another
// replica may be writing, so this process must stop.
var ErrLostLeadership = errors.New("lost leadership: another replica may lead now")

// Leadership elects one writer among a daemon's replicas with a Lease named
// tether-<instance>. client-go's election does not guarantee a single writer
// (a paused process still believes it leads when it wakes), so Leadership
// also fences: Term says whether this process may write right now, from the
// time it last renewed, and which leader term it writes in.
type Leadership struct {
	elector *leaderelection.LeaderElector
	lock    *fencedLock
	leading chan context.Context // the leader's context, when this replica starts leading
}

// NewLeadership prepares the election of the Lease tether-<instance> in
// namespace; identity names this replica (and tells standbys where to send
// webhooks).
func NewLeadership(cs kubernetes.Interface, namespace, instance, identity string, t LeaseTiming) (*Leadership, error) {
	lock := &fencedLock{Interface: &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: inventoryNamePrefix + instance, Namespace: namespace},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}, timing: t}
	l := &Leadership{lock: lock, leading: make(chan context.Context, 1)}
	el, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, LeaseDuration: t.LeaseDuration, RenewDeadline: t.RenewDeadline, RetryPeriod: t.RetryPeriod,
		ReleaseOnCancel: true, Name: lock.Describe(),
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) { l.leading <- ctx },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	l.elector = el
	return l, nil
}

// Run waits until this replica leads, then runs lead until ctx ends or the
// lease is lost. When ctx ends, lead finishes its writes first and the Lease
// is released after, so a standby takes over at once and never overlaps
// with them. It returns ErrLostLeadership when the lease was lost.
func (l *Leadership) Run(ctx context.Context, log *slog.Logger, lead func(context.Context) error) error {
	electCtx, stopElection := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElection()
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.elector.Run(electCtx)
	}()
	var leadCtx context.Context
	select {
	case <-ctx.Done():
		stopElection()
		<-done
		return nil
	case leadCtx = <-l.leading:
	}
	log.Info("leading", "lease", l.lock.Describe(), "term", l.lock.termNow())
	runCtx, stopLead := context.WithCancel(ctx)
	context.AfterFunc(leadCtx, stopLead) // renewing failed: stop at once
	err := lead(runCtx)
	stopLead()
	lost := leadCtx.Err() != nil && ctx.Err() == nil
	stopElection() // release the Lease now that every write is done
	<-done
	if lost {
		return ErrLostLeadership
	}
	return err
}

// Leader is the identity of the replica that leads, as last seen.
func (l *Leadership) Leader() string { return l.elector.GetLeader() }

// IsLeader reports whether this replica leads and may write.
func (l *Leadership) IsLeader() bool {
	_, ok := l.lock.term()
	return ok
}

// Term is the leader term this replica writes in (the Lease's transitions
// when it took the lead) and whether it may write now: it holds the Lease
// and renewed it less than RenewDeadline ago. A process that was paused
// (SIGSTOP, a long GC, a frozen VM) past that may have been replaced, and
// must not write until it renewed again, which it cannot once another
// replica took over.
func (l *Leadership) Term() (int64, bool) { return l.lock.term() }

// fencedLock is a Lease lock that remembers when this replica last renewed
// the Lease (the time it sent the request: the server's write is later) and
// in which term.
type fencedLock struct {
	resourcelock.Interface
	timing LeaseTiming

	mu      sync.Mutex
	renewed time.Time
	holder  bool
	terms   int32
}

func (f *fencedLock) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	sent := time.Now()
	err := f.Interface.Create(ctx, ler)
	f.observe(ler, sent, err)
	return err
}

func (f *fencedLock) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	sent := time.Now()
	err := f.Interface.Update(ctx, ler)
	f.observe(ler, sent, err)
	return err
}

func (f *fencedLock) observe(ler resourcelock.LeaderElectionRecord, sent time.Time, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		return
	}
	f.holder = ler.HolderIdentity == f.Identity()
	f.renewed, f.terms = sent, int32(ler.LeaderTransitions)
}

func (f *fencedLock) term() (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(f.terms), f.holder && time.Since(f.renewed) < f.timing.RenewDeadline
}

func (f *fencedLock) termNow() int64 {
	t, _ := f.term()
	return t
}
