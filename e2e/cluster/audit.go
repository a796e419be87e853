package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// auditPolicy logs every write (not reads, not Events or Leases) once, at
// the Metadata level: who wrote what and when, cheaply enough to stay on.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: None
  resources:
  - {group: "", resources: [events]}
  - {group: events.k8s.io, resources: [events]}
  - {group: coordination.k8s.io, resources: [leases]}
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
`

func auditPolicyPath(dir string) string { return filepath.Join(dir, "audit-policy.yaml") }

// AuditLog is the API server's audit log of writes, one JSON event a line.
func (c *Cluster) AuditLog() string { return filepath.Join(c.Dir, "logs", "audit.log") }

func writeAuditPolicy(dir string) error {
	return os.WriteFile(auditPolicyPath(dir), []byte(auditPolicy), 0o644)
}

// Write is one write request the API server logged.
type Write struct {
	UserAgent string    `json:"userAgent"`
	Verb      string    `json:"verb"`
	Code      int       // response status
	Received  time.Time // when the API server received it
	Object    struct {
		Resource, Namespace, Name string
	}
}

// Writes reads the writes logged so far.
func (c *Cluster) Writes() ([]Write, error) {
	f, err := os.Open(c.AuditLog())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Write
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct {
			UserAgent                string    `json:"userAgent"`
			Verb                     string    `json:"verb"`
			RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
			ResponseStatus           struct {
				Code int `json:"code"`
			} `json:"responseStatus"`
			ObjectRef struct {
				Resource  string `json:"resource"`
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"objectRef"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		w := Write{UserAgent: ev.UserAgent, Verb: ev.Verb, Code: ev.ResponseStatus.Code, Received: ev.RequestReceivedTimestamp}
		w.Object.Resource, w.Object.Namespace, w.Object.Name = ev.ObjectRef.Resource, ev.ObjectRef.Namespace, ev.ObjectRef.Name
		out = append(out, w)
	}
	return out, sc.Err()
}
