package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func newForgetCmd(a *app) *cobra.Command {
	var userID string
	cmd := &cobra.Command{
		Use:   "forget --user ID",
		Short: "Erase every event, label and set entry of one user",
		Long: `Erase a user's data: every event whose user_id was ID, with the labels
and set entries on those events. The store only keeps a keyed hash of user
ids, so give the id exactly as your product sent it. Freed space is reclaimed
from the database files before the command returns.`,
		Example: `  loupe forget --user u-48213`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if userID == "" {
				return usageErr("--user is required: the user id as your product sent it")
			}
			st, err := a.open(cmd.Context(), "loupe forget")
			if err != nil {
				return err
			}
			n, err := st.Forget(st.UserHash(userID))
			if err != nil {
				return withCode(exitInternal, fmt.Errorf("forget: %w", err))
			}
			if a.json {
				b, _ := json.Marshal(map[string]int{"erased": n})
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "erased %d events of that user, with their labels and set entries\n", n)
			return nil
		},
	}
	cmd.Flags().StringVar(&userID, "user", "", "the user id to erase, as sent in events' user_id")
	return cmd
}
