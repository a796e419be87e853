package render

import (
	"bytes"
	"path"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"
)

// scanner checks every kustomization a build would read before kustomize
// runs. kustomize itself would clone remote bases with git, fetch URLs over
// HTTP and run plugins; tether allows none of that, so anything that could
// lead there is an error with the file, line and reference to fix. It also
// copies declared components into the tree.
type scanner struct {
	t          *tree
	errs       Errors
	warnings   []string
	deprecated bool // some kustomization uses deprecated fields (see build)
	visited    map[string]bool
}

func newScanner(t *tree) *scanner {
	return &scanner{t: t, visited: map[string]bool{}}
}

// scan checks the kustomization in tree folder dir. Every path it names must
// stay inside root, except components, which may live anywhere in the
// repository and become roots of their own.
func (s *scanner) scan(dir, root string) {
	if s.visited[dir] {
		return
	}
	s.visited[dir] = true
	file := s.t.kustomizationIn(dir)
	if file == "" {
		s.errs = append(s.errs, &FieldError{File: dir, Msg: "has no kustomization.yaml"})
		return
	}
	data, err := s.t.readYAML(file)
	if err != nil {
		s.errs = append(s.errs, asFieldError(err, file))
		return
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		s.errs = append(s.errs, &FieldError{File: file, Msg: err.Error()})
		return
	}
	var node yaml.Node
	_ = yaml.Unmarshal(data, &node) // parsed once more for line numbers only
	c := &kcheck{s: s, v: &validator{file: file, root: &node}, dir: dir, root: root}
	c.check(&k)
	s.errs = append(s.errs, c.v.sorted()...)
	s.warnings = append(s.warnings, c.v.warn...)
}

// kcheck checks the references of one kustomization file.
type kcheck struct {
	s         *scanner
	v         *validator
	dir, root string
}

func (c *kcheck) check(k *types.Kustomization) {
	c.unsupported(k)
	c.deprecated(k)
	c.each("resources", k.Resources, c.resource)
	c.each("bases", k.Bases, c.resource)
	c.each("components", k.Components, c.component)
	c.each("crds", k.Crds, c.file)
	c.each("configurations", k.Configurations, c.file)
	c.each("generators", k.Generators, c.plugin)
	c.each("transformers", k.Transformers, c.plugin)
	c.each("validators", k.Validators, c.plugin)
	for i, p := range k.Patches {
		c.optional(fieldIndex("patches", i)+".path", p.Path)
		c.inlineAliases(fieldIndex("patches", i)+".patch", p.Patch)
	}
	for i, p := range k.PatchesJson6902 {
		c.optional(fieldIndex("patchesJson6902", i)+".path", p.Path)
		c.inlineAliases(fieldIndex("patchesJson6902", i)+".patch", p.Patch)
	}
	for i, p := range k.PatchesStrategicMerge {
		if strings.Contains(string(p), "\n") {
			c.inlineAliases(fieldIndex("patchesStrategicMerge", i), string(p))
		} else {
			c.optional(fieldIndex("patchesStrategicMerge", i), string(p))
		}
	}
	for i, r := range k.Replacements {
		c.optional(fieldIndex("replacements", i)+".path", r.Path)
	}
	for i, g := range k.ConfigMapGenerator {
		c.generatorSources(fieldIndex("configMapGenerator", i), g.KvPairSources)
	}
	for i, g := range k.SecretGenerator {
		c.generatorSources(fieldIndex("secretGenerator", i), g.KvPairSources)
	}
}

// unsupported rejects what kustomize could only do by running programs or
// by changing process-wide state.
func (c *kcheck) unsupported(k *types.Kustomization) {
	const helm = "Helm charts are not supported; tether never runs helm (render the chart into the repository instead)"
	switch {
	case len(k.HelmCharts) > 0:
		c.v.fail("helmCharts", helm)
	case len(k.HelmChartInflationGenerator) > 0:
		c.v.fail("helmChartInflationGenerator", helm)
	case k.HelmGlobals != nil:
		c.v.fail("helmGlobals", helm)
	}
	if len(k.OpenAPI) > 0 {
		// kustomize keeps a custom schema process-wide (kyaml openapi.SetSchema),
		// so one model's schema would change how every later model is merged.
		c.v.fail("openapi", "custom OpenAPI schemas are not supported; kustomize would apply them to every model")
	}
}

func (c *kcheck) deprecated(k *types.Kustomization) {
	msgs := k.CheckDeprecatedFields()
	if msgs == nil || len(*msgs) == 0 {
		return
	}
	c.s.deprecated = true
	for _, msg := range *msgs {
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, "# "), "Warning: ")
		c.v.warn = append(c.v.warn, c.v.file+": "+msg)
	}
}

func (c *kcheck) each(field string, refs []string, fn func(field, ref string)) {
	for i, ref := range refs {
		fn(fieldIndex(field, i), ref)
	}
}

func fieldIndex(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// local checks that ref is a relative path inside root and returns it as a
// tree path; ok is false (and the problem recorded) otherwise.
func (c *kcheck) local(field, ref, root string) (string, bool) {
	switch {
	case ref == "":
		c.v.fail(field, "is empty; expected a relative path")
		return "", false
	case isRemote(ref):
		c.v.fail(field, "remote reference %q rejected: tether never fetches bases or files over the network; vendor it into the repository", ref)
		return "", false
	case path.IsAbs(ref) || strings.HasPrefix(ref, `\`) || (len(ref) > 1 && ref[1] == ':'):
		c.v.fail(field, "absolute path %q rejected; expected a path relative to %s", ref, c.dir)
		return "", false
	}
	p := path.Join(c.dir, ref)
	if root != "" && !within(p, root) {
		c.v.fail(field, "%q leaves %s; only components may live outside it", ref, root)
		return "", false
	}
	if root == "" && (p == ".." || strings.HasPrefix(p, "../")) {
		c.v.fail(field, "%q leaves the repository", ref)
		return "", false
	}
	return p, true
}

// exists records an error when tree path p is missing; a missing path that
// looks like host/org/repo is most likely a remote base without a scheme.
func (c *kcheck) exists(field, ref, p string) bool {
	if c.s.t.fs.Exists(memPath(p)) {
		return true
	}
	if size, ok := c.s.t.skipped[p]; ok {
		c.v.fail(field, "%q is %d bytes; kustomize may read files of at most %d bytes", ref, size, maxTreeFileBytes)
		return false
	}
	if first, _, _ := strings.Cut(ref, "/"); strings.Contains(first, ".") && strings.Trim(first, ".") != "" {
		c.v.fail(field, "%q does not exist in the repository; if it is a remote base, tether never fetches those", ref)
	} else {
		c.v.fail(field, "%q does not exist", ref)
	}
	return false
}

func (c *kcheck) resource(field, ref string) {
	p, ok := c.local(field, ref, c.root)
	if !ok || !c.exists(field, ref, p) {
		return
	}
	switch {
	case c.s.t.fs.IsDir(memPath(p)):
		c.s.scan(p, c.root)
	case path.Base(p) == ModelFile && c.dir == c.root:
		c.v.fail(field, "%q is the model spec; tether adds the rendered model itself", ref)
	default:
		c.yamlFile(p)
	}
}

func (c *kcheck) component(field, ref string) {
	p, ok := c.local(field, ref, "")
	if !ok {
		return
	}
	if !within(p, c.root) {
		if err := c.s.t.copyDir(p); err != nil {
			c.v.fail(field, "component %q: %v", ref, err)
			return
		}
		c.s.scan(p, p)
		return
	}
	if c.exists(field, ref, p) {
		c.s.scan(p, c.root)
	}
}

// file checks a file kustomize parses as YAML.
func (c *kcheck) file(field, ref string) {
	if p, ok := c.local(field, ref, c.root); ok && c.exists(field, ref, p) {
		c.yamlFile(p)
	}
}

// dataFile checks a generator source, which kustomize reads as data: YAML
// aliases in it are content, not expanded.
func (c *kcheck) dataFile(field, ref string) {
	if p, ok := c.local(field, ref, c.root); ok && c.exists(field, ref, p) {
		c.s.t.data[p] = true
	}
}

// optional checks a path that may be empty (e.g. patches[i].path).
func (c *kcheck) optional(field, ref string) {
	if ref == "" {
		return
	}
	if p, ok := c.local(field, ref, c.root); ok && c.s.t.fs.Exists(memPath(p)) && !c.s.t.fs.IsDir(memPath(p)) {
		c.yamlFile(p)
	}
}

// yamlFile records an error when tree file p holds a YAML alias.
func (c *kcheck) yamlFile(p string) {
	if c.s.visited[p] {
		return
	}
	c.s.visited[p] = true
	if _, err := c.s.t.readYAML(p); err != nil {
		c.s.errs = append(c.s.errs, asFieldError(err, p))
	}
}

// plugin checks a generators/transformers/validators entry: inline plugin
// configuration, a file of them, or a kustomization producing them.
func (c *kcheck) plugin(field, ref string) {
	if strings.Contains(ref, "\n") {
		c.inlineAliases(field, ref)
		c.pluginConfigs(field, []byte(ref))
		return
	}
	p, ok := c.local(field, ref, c.root)
	if !ok || !c.exists(field, ref, p) {
		return
	}
	if c.s.t.fs.IsDir(memPath(p)) {
		c.s.scan(p, c.root)
		return
	}
	c.yamlFile(p)
	if data, err := c.s.t.fs.ReadFile(memPath(p)); err == nil && c.s.t.checked[p] {
		c.pluginConfigs(field, data)
	}
}

// pluginConfigs rejects KRM functions (exec or container) and plugins that are
// not kustomize builtins. krusty's disabled plugin config refuses them too;
// this names the reason.
func (c *kcheck) pluginConfigs(field string, data []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc pluginDoc
		if err := dec.Decode(&doc); err != nil {
			return // end of stream, or YAML kustomize will reject itself
		}
		name := doc.Kind + "/" + doc.Metadata.Name
		switch {
		case doc.Metadata.Annotations["config.kubernetes.io/function"] != "" || doc.Metadata.Annotations["config.k8s.io/function"] != "":
			c.v.fail(field, "KRM function %s rejected: tether runs no exec or container functions", name)
		case doc.Kind == "HelmChartInflationGenerator":
			c.v.fail(field, "%s rejected: Helm charts are not supported; tether never runs helm", name)
		case doc.APIVersion != "builtin" && doc.Kind != "":
			c.v.fail(field, "plugin %s (%s) rejected: only kustomize's builtin generators and transformers run", name, doc.APIVersion)
		}
	}
}

type pluginDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
}

func (c *kcheck) generatorSources(field string, src types.KvPairSources) {
	for i, f := range src.FileSources {
		if _, file, found := strings.Cut(f, "="); found {
			f = file
		}
		c.dataFile(fieldIndex(field+".files", i), f)
	}
	for i, f := range src.EnvSources {
		c.dataFile(fieldIndex(field+".envs", i), f)
	}
	if src.EnvSource != "" {
		c.dataFile(field+".env", src.EnvSource)
	}
}

var scpLike = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@[^/]+:`)

// isRemote reports whether kustomize would treat ref as a URL or git
// repository (a superset of kustomize's own api/internal/git.NewRepoSpecFromURL
// and loader.IsRemoteFile rules, so nothing slips through to git or HTTP).
func isRemote(ref string) bool {
	r := strings.ToLower(ref)
	r = strings.TrimPrefix(r, "git::")
	switch {
	case strings.Contains(r, "://"), strings.HasPrefix(r, "github.com/"), strings.HasPrefix(r, "github.com:"):
		return true
	case scpLike.MatchString(ref):
		return true
	case strings.Contains(r, "?ref=") || strings.Contains(r, "?version=") || strings.Contains(r, "?submodules=") || strings.Contains(r, "?timeout="):
		return true
	}
	return false
}
