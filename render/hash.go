package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// trainingHashLength is how many hex digits of SHA-256 name a training Job.
const trainingHashLength = 10

// TrainingHash is the content address of a model's training run: the first ten
// hex digits of SHA-256 over the canonical JSON of the training spec, image and
// model URI. encoding/json writes struct fields in a fixed order and map keys
// sorted, so field order, whitespace and map order in model.yaml never change it.
// keepRuns is retention, not content, so changing it starts no new run.
func TrainingHash(m *Model) string {
	var training *Training
	if m.Spec.Training != nil {
		t := *m.Spec.Training
		t.KeepRuns = nil
		training = &t
	}
	canonical := struct {
		Training *Training `json:"training"`
		Image    string    `json:"image"`
		ModelURI string    `json:"modelURI"`
	}{training, m.Spec.Image, m.Spec.ModelURI}
	return shortHash(canonical, trainingHashLength)
}

// TrainingJobName is the name of the Job that runs a model's current training spec.
func TrainingJobName(m *Model) string {
	return m.Metadata.Name + "-train-" + TrainingHash(m)
}

// shortHash returns n hex digits of SHA-256 over v's JSON encoding.
func shortHash(v any, n int) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic("render: hashing a value that cannot be encoded: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:n]
}
