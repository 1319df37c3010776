package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newForgetCmd(a *app) *cobra.Command {
	var userID string
	var expired bool
	cmd := &cobra.Command{
		Use:   "forget --user ID | --expired",
		Short: "Erase every event, label and set entry of one user, or past retention",
		Long: `Erase a user's data: every event whose user_id was ID, with the labels,
set and queue entries on those events. The store only keeps a keyed hash of
user ids, so give the id exactly as your product sent it.

With --expired, erase every event older than privacy.retention_days of
loupe.yaml instead (run it daily, e.g. from cron).

Freed space is reclaimed from the database files before the command returns.`,
		Example: `  loupe forget --user u-48213
  loupe forget --expired`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (userID == "") == !expired {
				return usageErr("give --user ID (the user id as your product sent it) or --expired")
			}
			var before time.Time
			if expired {
				cfg, err := a.loadConfig()
				if err != nil {
					return err
				}
				if cfg.Privacy.RetentionDays <= 0 {
					return usageErr("privacy.retention_days is not set in the config: nothing expires")
				}
				before = time.Now().UTC().AddDate(0, 0, -cfg.Privacy.RetentionDays)
			}
			st, err := a.open(cmd.Context(), "loupe forget")
			if err != nil {
				return err
			}
			var n int
			if expired {
				n, err = st.ForgetBefore(before)
			} else {
				n, err = st.Forget(st.UserHash(userID))
			}
			if err != nil {
				return withCode(exitInternal, fmt.Errorf("forget: %w", err))
			}
			if a.json {
				b, _ := json.Marshal(map[string]int{"erased": n})
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			if expired {
				fmt.Fprintf(cmd.OutOrStdout(), "erased %d events from before %s, with their labels and set entries\n", n, before.Format("2006-01-02"))
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "erased %d events of that user, with their labels and set entries\n", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&userID, "user", "", "the user id to erase, as sent in events' user_id")
	cmd.Flags().BoolVar(&expired, "expired", false, "erase events older than privacy.retention_days")
	return cmd
}
