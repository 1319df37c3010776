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
loupe.yaml instead, and drop the signals that waited longer than
intake.pending_days for an interaction that never came (run it daily, e.g.
from cron; serve does it daily by itself).

Freed space is reclaimed from the database files before the command returns.`,
		Example: `  loupe forget --user u-48213
  loupe forget --expired`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (userID == "") == !expired {
				return usageErr("give --user ID (the user id as your product sent it) or --expired")
			}
			var before, pendingBefore time.Time
			days := 0
			if expired {
				cfg, err := a.loadConfig()
				if err != nil {
					return err
				}
				if cfg.Privacy.RetentionDays > 0 {
					before = time.Now().UTC().AddDate(0, 0, -cfg.Privacy.RetentionDays)
				}
				days = cfg.Intake.PendingDays
				pendingBefore = time.Now().UTC().AddDate(0, 0, -days)
			}
			st, err := a.open(cmd.Context(), "loupe forget")
			if err != nil {
				return err
			}
			var n, dropped int
			switch {
			case !expired:
				n, err = st.Forget(st.UserHash(userID))
			case !before.IsZero():
				n, err = st.ForgetBefore(before)
			}
			if err == nil && expired {
				dropped, err = st.ExpirePending(pendingBefore)
			}
			if err != nil {
				return withCode(exitInternal, fmt.Errorf("forget: %w", err))
			}
			if a.json {
				out := map[string]any{"erased": n}
				if expired {
					out["signals_dropped"] = dropped
				}
				b, _ := json.Marshal(out)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			w := cmd.OutOrStdout()
			switch {
			case !expired:
				fmt.Fprintf(w, "erased %d events of that user, with their labels and set entries\n", n)
			case before.IsZero():
				fmt.Fprintln(w, "privacy.retention_days is 0: no event expires")
			default:
				fmt.Fprintf(w, "erased %d events from before %s, with their labels and set entries\n", n, before.Format("2006-01-02"))
			}
			if expired {
				fmt.Fprintf(w, "dropped %d pending signals that waited over %d days for their interaction\n", dropped, days)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&userID, "user", "", "the user id to erase, as sent in events' user_id")
	cmd.Flags().BoolVar(&expired, "expired", false, "erase events older than privacy.retention_days and drop signals pending over intake.pending_days")
	return cmd
}
