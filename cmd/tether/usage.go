package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpWidth is the width flag descriptions are wrapped to: fixed, so that
// help reads the same everywhere (and in the golden files).
const helpWidth = 120

// writeUsage is the usage (and, after the description, the help) of every
// command: the usage line, examples, subcommands, then the flags in their
// groups with their defaults, and how to set them from the environment.
func writeUsage(cmd *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if cmd.Runnable() && !cmd.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s\n", cmd.UseLine())
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s [command]\n", cmd.CommandPath())
	}
	if cmd.HasExample() {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", strings.TrimRight(cmd.Example, "\n"))
	}
	if cmd.HasAvailableSubCommands() {
		b.WriteString("\nAvailable Commands:\n")
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(&b, "  %-*s %s\n", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	writeFlagSections(&b, cmd.LocalFlags())
	if cmd.HasAvailableInheritedFlags() {
		fmt.Fprintf(&b, "\nGlobal Flags:\n%s", cmd.InheritedFlags().FlagUsagesWrapped(helpWidth))
	}
	writeEnvironment(&b, cmd)
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nUse \"%s [command] --help\" for more information about a command.\n", cmd.CommandPath())
	}
	_, err := io.WriteString(cmd.OutOrStderr(), b.String())
	return err
}

// writeFlagSections prints one section per flag group (flags without a group
// last, as "Flags:"), each flag with its default and whether it is required.
func writeFlagSections(b *strings.Builder, flags *pflag.FlagSet) {
	sections := map[string]*pflag.FlagSet{}
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		g := flagGroup(f)
		if sections[g] == nil {
			sections[g] = pflag.NewFlagSet(g, pflag.ContinueOnError)
			sections[g].SortFlags = flags.SortFlags
		}
		shown := *f
		if len(f.Annotations[cobra.BashCompOneRequiredFlag]) > 0 {
			shown.Usage += " (required)"
		}
		sections[g].AddFlag(&shown)
	})
	for _, g := range append(flagGroups, "") {
		fs := sections[g]
		if fs == nil {
			continue
		}
		title := g
		if title == "" {
			title = "Flags"
		}
		fmt.Fprintf(b, "\n%s:\n%s", title, fs.FlagUsagesWrapped(helpWidth))
	}
}

// writeEnvironment says how the command's flags are set from the environment,
// with one of them (preferably a name with a dash) as the example.
func writeEnvironment(b *strings.Builder, cmd *cobra.Command) {
	var example *pflag.Flag
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && !f.Hidden && (example == nil || !strings.Contains(example.Name, "-") && strings.Contains(f.Name, "-")) {
			example = f
		}
	})
	if example == nil {
		return
	}
	fmt.Fprintf(b, "\nEnvironment:\n  %s sets --%s, and likewise for every flag: %s and its name in upper case with _\n"+
		"  for -. A flag on the command line wins; an empty variable counts as unset.\n", envName(example.Name), example.Name, envPrefix)
}
