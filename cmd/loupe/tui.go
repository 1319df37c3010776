package main

import (
	"github.com/loupe-dev/loupe/tui"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newTUICmd) }

func newTUICmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "tui",
		Short: "Open the TUI on the store (also: loupe with no command)",
		Long: `Open the triage and labeling TUI on the store: browse the inbox, filter
with / (key:value tokens like seg:ent or reason:factual, and bare words),
open an item with enter and grade it with p/f/b. Press ? for every key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTUI(cmd, a) },
	}
}

func runTUI(cmd *cobra.Command, a *app) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.open(cmd.Context(), "loupe tui")
	if err != nil {
		return err
	}
	if a.reviewer == "" {
		return usageErr("no reviewer name: set --reviewer or LOUPE_REVIEWER")
	}
	return tui.Run(cmd.Context(), st, tui.Options{
		Reviewer:   a.reviewer,
		Taxonomy:   cfg.Taxonomy,
		Rubric:     cfg.Rubric,
		Goal:       cfg.Goal,
		Guardrails: cfg.Guardrails,
		SetTargets: cfg.Sets,
		MinKappa:   cfg.Review.MinKappa,
	})
}
