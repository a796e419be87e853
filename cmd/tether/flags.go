package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Flag groups, in the order help prints them. cobra groups commands but not
// flags, so each flag carries its group as a pflag annotation and writeUsage
// prints one section per group.
const (
	groupGit           = "Git source"
	groupModels        = "Models"
	groupCluster       = "Cluster"
	groupDrift         = "Drift and pruning"
	groupPreviews      = "Previews"
	groupNotifications = "Notifications"
	groupServer        = "Server"
	groupHA            = "High availability"
	groupOutput        = "Output"
	groupLogging       = "Logging"
)

var flagGroups = []string{groupGit, groupModels, groupCluster, groupDrift, groupPreviews, groupNotifications, groupServer, groupHA, groupOutput, groupLogging}

// groupAnnotation is the pflag annotation that names a flag's group.
const groupAnnotation = "tether.dev/flag-group"

// envPrefix starts the environment variable of every flag: TETHER_MAX_PRUNE
// sets --max-prune.
const envPrefix = "TETHER_"

// setGroup puts the named flags of fs into group.
func setGroup(fs *pflag.FlagSet, group string, names ...string) {
	for _, name := range names {
		if err := fs.SetAnnotation(name, groupAnnotation, []string{group}); err != nil {
			panic(err) // a flag named here but never defined: a programming error
		}
	}
}

// flagGroup is the group of f, "" for none.
func flagGroup(f *pflag.Flag) string {
	if g := f.Annotations[groupAnnotation]; len(g) > 0 {
		return g[0]
	}
	return ""
}

// envName is the environment variable that sets the flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyEnv sets every flag of cmd that the command line left alone from its
// environment variable, if that is set and not empty. A value the flag does
// not accept is a usage error naming the variable.
func applyEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		name := envName(f.Name)
		value := os.Getenv(name)
		if value == "" {
			return
		}
		if setErr := cmd.Flags().Set(f.Name, value); setErr != nil {
			err = usagef("%s%s=%q: %v", commandPrefix(cmd), name, value, setErr)
		}
	})
	return err
}

// completeWords completes a flag's value from a fixed list.
func completeWords(words ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp)
}

// registerCompletion attaches value completion to a flag of cmd.
func registerCompletion(cmd *cobra.Command, name string, fn cobra.CompletionFunc) {
	if err := cmd.RegisterFlagCompletionFunc(name, fn); err != nil {
		panic(fmt.Sprintf("flag --%s: %v", name, err)) // a programming error
	}
}
