package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// toolsRel is where the tools modules live relative to the repository root.
var toolsRel = filepath.Join("e2e", "cluster", "tools")

// toolsDir finds the tools modules: first beside this source file, which
// works for go test and go run inside the repository, then by walking up
// from the working directory, which works for a binary built with -trimpath.
func toolsDir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Join(filepath.Dir(file), "tools")
		if isTools(dir) {
			return dir, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if isTools(filepath.Join(dir, toolsRel)) {
			return filepath.Join(dir, toolsRel), nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("cluster tools modules: no " + toolsRel + " above " + wd)
		}
	}
}

func isTools(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "kube", "go.mod"))
	return err == nil
}
