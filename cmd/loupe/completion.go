package main

import (
	"strings"

	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/loop/eval"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/spf13/cobra"
)

// registerCompletions teaches shell completion (loupe completion bash|zsh|
// fish|powershell) the values of arguments and flags that take a word from
// a fixed list: export kinds, set kinds, metrics, --format and the like.
// File flags keep the shell's file completion.
func registerCompletions(root *cobra.Command) {
	fixed := func(words ...string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return words, cobra.ShellCompDirectiveNoFileComp
		}
	}
	flag := func(cmd *cobra.Command, name string, f cobra.CompletionFunc) {
		if cmd.Flags().Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, f)
		}
	}
	metrics := append(append([]string{}, trend.Metrics...), reasonMetrics()...)
	for _, cmd := range root.Commands() {
		switch cmd.Name() {
		case "export":
			cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return exportKinds(), cobra.ShellCompDirectiveNoFileComp
			}
			flag(cmd, "format", fixed("jsonl", "csv"))
		case "set":
			cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				switch len(args) {
				case 0:
					return []string{"add", "rm", "ls"}, cobra.ShellCompDirectiveNoFileComp
				case 1:
					return []string{"golden", "redflag"}, cobra.ShellCompDirectiveNoFileComp
				}
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
		case "trends":
			flag(cmd, "metric", fixed(metrics...))
			flag(cmd, "by", fixed("model", "segment", "task"))
		case "ab":
			flag(cmd, "metric", fixed(append(append([]string{}, metrics...), metricClickRate, metricIPWClickRate)...))
		case "gen":
			flag(cmd, "candidate", fixed("fixed", "regressed"))
		case "eval":
			// a set kind, or an exported set file
			flag(cmd, "set", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return []string{"golden", "redflag"}, cobra.ShellCompDirectiveDefault
			})
		case "gate":
			flag(cmd, "max-drop", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				var out []string
				for _, m := range eval.MetricNames {
					out = append(out, m+"=")
				}
				return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
			})
		}
	}
}

// reasonMetrics are the reason:<code> metrics of the default taxonomy.
func reasonMetrics() []string {
	var out []string
	for _, r := range config.Default().Taxonomy {
		out = append(out, trend.ReasonPrefix+strings.TrimSpace(r.Code))
	}
	return out
}
