package reconcile

import (
	"time"

	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// CommitInfo describes a revision's commit, as records keep it.
type CommitInfo struct {
	Author  string    `json:"author,omitempty"` // "Name <email>"
	Time    time.Time `json:"time,omitzero"`
	Subject string    `json:"subject,omitempty"`
}

// Lineage is what a unit's applied objects trace back to (issue 14), kept in
// its inventory record: the image, modelURI, dataset and training run of the
// content last applied, when that was, and the commits of the revisions its
// objects carry.
type Lineage struct {
	render.Lineage
	AppliedAt time.Time             `json:"appliedAt,omitzero"`
	Commits   map[string]CommitInfo `json:"commits,omitempty"` // by revision
}

// appliedLineage is the lineage of a unit just applied at revision (made by
// commit) from render's lineage. It keeps the commits of the revisions its
// members still carry.
func appliedLineage(prev Lineage, rendered render.Lineage, revision string, commit source.Commit, at time.Time, members []*member) Lineage {
	out := Lineage{Lineage: rendered, AppliedAt: at, Commits: map[string]CommitInfo{}}
	if commit != (source.Commit{}) {
		out.Commits[revision] = CommitInfo{Author: commit.Author, Time: commit.Time, Subject: commit.Subject}
	}
	for _, m := range members {
		if c, ok := prev.Commits[m.revision]; ok && m.revision != revision {
			out.Commits[m.revision] = c
		}
	}
	if len(out.Commits) == 0 {
		out.Commits = nil
	}
	return out
}

// recordedLineage is the lineage a record keeps; nil when there is none.
func recordedLineage(l Lineage) *Lineage {
	if l.AppliedAt.IsZero() && l.Lineage == (render.Lineage{}) && len(l.Commits) == 0 {
		return nil
	}
	return &l
}

// LineageStatus is a unit's lineage in /status.
type LineageStatus struct {
	Commit      *CommitStatus      `json:"commit,omitempty"`    // of the last applied revision
	AppliedAt   *time.Time         `json:"appliedAt,omitempty"` // when its content was applied
	Image       string             `json:"image,omitempty"`
	ImageDigest string             `json:"imageDigest,omitempty"`
	ModelURI    string             `json:"modelURI,omitempty"`
	Dataset     string             `json:"dataset,omitempty"`
	TrainingRun *TrainingRunStatus `json:"trainingRun,omitempty"`
}

// CommitStatus is a revision with its commit, when known.
type CommitStatus struct {
	Revision string `json:"revision"`
	CommitInfo
}

// TrainingRunStatus is the training run a model's serving objects name.
type TrainingRunStatus struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`    // Job or CronJob
	Outcome string `json:"outcome"` // Job: Running, Succeeded, Failed; CronJob: Scheduled; Missing or Unknown
}

// ObjectStatus is one applied object with the revision that produced its
// content, that revision's commit and when tether applied it.
type ObjectStatus struct {
	Object    string      `json:"object"`
	Revision  string      `json:"revision"`
	Commit    *CommitInfo `json:"commit,omitempty"`
	AppliedAt *time.Time  `json:"appliedAt,omitempty"`
}

// lineageStatus turns a unit's lineage into /status, with its training
// run's outcome from the watch cache.
func (l *Loop) lineageStatus(st unitState, members []*member) *LineageStatus {
	out := lineageStatus(st.revision, st.lineage)
	if out != nil && out.TrainingRun != nil {
		out.TrainingRun.Outcome = l.runOutcome(st.lineage, members)
	}
	return out
}

// lineageStatus is a lineage in /status; the training run's outcome is
// Unknown.
func lineageStatus(revision string, lin Lineage) *LineageStatus {
	if revision == "" && lin.AppliedAt.IsZero() && lin.Image == "" {
		return nil
	}
	out := &LineageStatus{Image: lin.Image, ImageDigest: lin.ImageDigest, ModelURI: lin.ModelURI, Dataset: lin.Dataset,
		Commit: &CommitStatus{Revision: revision, CommitInfo: lin.Commits[revision]}}
	if !lin.AppliedAt.IsZero() {
		out.AppliedAt = &lin.AppliedAt
	}
	if lin.TrainingRun != "" {
		out.TrainingRun = &TrainingRunStatus{Name: lin.TrainingRun, Kind: lin.TrainingRunKind, Outcome: "Unknown"}
	}
	return out
}

// objectStatuses lists members with their lineage.
func objectStatuses(lin Lineage, members []*member) []ObjectStatus {
	var out []ObjectStatus
	for _, m := range members {
		o := ObjectStatus{Object: m.key.String(), Revision: m.revision}
		if c, ok := lin.Commits[m.revision]; ok {
			o.Commit = &c
		}
		if !m.appliedAt.IsZero() {
			at := m.appliedAt
			o.AppliedAt = &at
		}
		out = append(out, o)
	}
	return out
}

// runOutcome reads the training run's state from the watch cache.
func (l *Loop) runOutcome(lin Lineage, members []*member) string {
	for _, m := range members {
		if m.key.Group != "batch" || m.key.Kind != lin.TrainingRunKind || m.key.Name != lin.TrainingRun {
			continue
		}
		live, ok := l.watcher.live(m.key)
		switch {
		case !ok && l.watcher.synced(m.key.GroupKind()):
			return "Missing"
		case !ok:
			return "Unknown"
		case m.key.Kind == "CronJob":
			return "Scheduled"
		case live.finished && live.health == HealthFailed:
			return "Failed"
		case live.finished:
			return "Succeeded"
		}
		return "Running"
	}
	return "Unknown"
}
