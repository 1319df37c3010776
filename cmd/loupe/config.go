package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newInitCmd) }

// appConfig is the loaded loupe.yaml (or the built-in defaults) with the
// conversions the commands need.
type appConfig struct {
	config.Config
	Path string // "" for the built-in defaults
}

// loadConfig reads --config, else ./loupe.yaml when present, else the
// built-in defaults. A file that does not validate is a usage error that
// names the file and line.
func (a *app) loadConfig() (appConfig, error) {
	path := a.config
	if path == "" {
		if _, err := os.Stat(config.FileName); err == nil {
			path = config.FileName
		}
	}
	if path == "" {
		return appConfig{Config: config.Default()}, nil
	}
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
		path = "stdin"
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return appConfig{}, usageErr("config: %v", err)
	}
	c, err := config.LoadNamed(path, data)
	if err != nil {
		return appConfig{}, usageErr("%v", err)
	}
	for _, w := range c.Warnings {
		fmt.Fprintln(os.Stderr, "warning: "+w)
	}
	return appConfig{Config: c, Path: path}, nil
}

func (c appConfig) ReasonCodes() []string {
	out := make([]string, len(c.Taxonomy))
	for i, r := range c.Taxonomy {
		out[i] = r.Code
	}
	return out
}

func (c appConfig) TrendPolicy() trend.Policy { return c.Guardrails.Policy() }

func (c appConfig) TrendGoal() trend.Goal { return c.Goal.Trend() }

func newInitCmd(a *app) *cobra.Command {
	var force bool
	return func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "init",
			Short: "Write a commented loupe.yaml with the built-in defaults",
			Long: `Write loupe.yaml (or the --config path; - for stdout): the goal metric and its target,
the reason-code taxonomy, the rubric, sampling rules, guardrails, set size
targets and privacy settings, each section explained in comments. Edit it,
then check it with 'loupe doctor'.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				path := a.config
				if path == "" {
					path = config.FileName
				}
				if path == "-" {
					_, err := cmd.OutOrStdout().Write(config.Template())
					return err
				}
				flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
				if force {
					flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
				}
				f, err := os.OpenFile(path, flags, 0o644)
				if errors.Is(err, fs.ErrExist) {
					return usageErr("%s already exists: edit it, or use --force to overwrite it", path)
				}
				if err != nil {
					return withCode(exitInternal, err)
				}
				if _, err := f.Write(config.Template()); err != nil {
					f.Close()
					return withCode(exitInternal, err)
				}
				if err := f.Close(); err != nil {
					return withCode(exitInternal, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s — edit the goal, taxonomy and guardrails, then run 'loupe doctor'\n", path)
				return nil
			},
		}
		cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
		return cmd
	}()
}
