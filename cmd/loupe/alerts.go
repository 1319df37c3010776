package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newAlertsCmd) }

// alertJSON is one line of `loupe alerts --json` (README documents it).
type alertJSON struct {
	ID        string      `json:"id"`
	Status    string      `json:"status"` // new, posted, acknowledged
	FirstSeen time.Time   `json:"first_seen"`
	LastSeen  time.Time   `json:"last_seen"`
	PostedAt  *time.Time  `json:"posted_at"`
	AckedAt   *time.Time  `json:"acked_at"`
	AckedBy   *string     `json:"acked_by"`
	Alert     trend.Alert `json:"alert"`
}

func toAlertJSON(r store.AlertRecord) (alertJSON, error) {
	out := alertJSON{ID: r.ID, Status: "new", FirstSeen: r.FirstSeen, LastSeen: r.LastSeen}
	if err := json.Unmarshal(r.Alert, &out.Alert); err != nil {
		return out, fmt.Errorf("alert %s: %w", r.ID, err)
	}
	if !r.PostedAt.IsZero() {
		t := r.PostedAt
		out.PostedAt, out.Status = &t, "posted"
	}
	if !r.AckedAt.IsZero() {
		t, by := r.AckedAt, r.AckedBy
		out.AckedAt, out.AckedBy, out.Status = &t, &by, "acknowledged"
	}
	return out, nil
}

func newAlertsCmd(a *app) *cobra.Command {
	var open bool
	cmd := &cobra.Command{
		Use:   "alerts [--open]",
		Short: "Guardrail alerts: list them (checking the guardrails now), or acknowledge one",
		Long: `List the guardrail alerts the store has recorded, newest first, with their
status: new (not posted yet), posted (sent to alerts.webhook by the daily
job of loupe serve) or acknowledged. The guardrails are checked first, so
the list is current: an alert seen for the first time is recorded as new
(serve posts it at its next daily run).

An alert is a significant worsening of a guarded metric (see loupe
trends). ROLL BACK names the model version to return to; WATCH is a
worsening no rollback fixes. The same breach keeps its id from day to
day, so it is posted once.`,
		Example: `  loupe alerts
  loupe alerts --open --json
  loupe alerts ack 3f2a9c01de`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), "loupe alerts")
			if err != nil {
				return err
			}
			d, err := loadReviewData(st)
			if err != nil {
				return withCode(exitInternal, err)
			}
			if _, _, err := raiseAlerts(st, cfg, d, time.Now().UTC()); err != nil {
				return withCode(exitInternal, err)
			}
			var list []alertJSON
			if err := st.Alerts(func(r store.AlertRecord) error {
				j, err := toAlertJSON(r)
				if err != nil {
					return err
				}
				if !open || j.Status != "acknowledged" {
					list = append(list, j)
				}
				return nil
			}); err != nil {
				return withCode(exitInternal, err)
			}
			// Newest first; alerts seen on the same run in trend's order.
			as := make([]trend.Alert, len(list))
			for i, j := range list {
				as[i] = j.Alert
			}
			trend.SortAlerts(as)
			rank := map[string]int{}
			for i, al := range as {
				rank[al.ID] = i
			}
			sort.SliceStable(list, func(i, j int) bool {
				if !list[i].LastSeen.Equal(list[j].LastSeen) {
					return list[i].LastSeen.After(list[j].LastSeen)
				}
				return rank[list[i].ID] < rank[list[j].ID]
			})
			w := cmd.OutOrStdout()
			if a.json {
				if list == nil {
					list = []alertJSON{}
				}
				if err := writeJSON(w, list); err != nil {
					return withCode(exitInternal, err)
				}
				return nil
			}
			if len(list) == 0 {
				fmt.Fprintln(w, "no alerts: every guardrail holds")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tLAST SEEN\tALERT")
			for _, j := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", j.ID, j.Status, j.LastSeen.Format("2006-01-02"), j.Alert.Headline())
			}
			tw.Flush()
			return nil
		},
	}
	cmd.Flags().BoolVar(&open, "open", false, "only alerts not acknowledged")
	cmd.AddCommand(&cobra.Command{
		Use:     "ack ID",
		Short:   "Acknowledge an alert: it is no longer posted, and the list says who saw it",
		Example: `  loupe alerts ack 3f2a9c01de`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.open(cmd.Context(), "loupe alerts ack")
			if err != nil {
				return err
			}
			rec, err := st.AckAlert(args[0], a.reviewer, time.Now().UTC())
			if errors.Is(err, store.ErrNotFound) {
				return usageErr("no alert %q: 'loupe alerts' lists their ids", args[0])
			} else if err != nil {
				return withCode(exitInternal, err)
			}
			j, err := toAlertJSON(rec)
			if err != nil {
				return withCode(exitInternal, err)
			}
			if a.json {
				return writeJSON(cmd.OutOrStdout(), j)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "acknowledged %s by %s: %s\n", j.ID, *j.AckedBy, j.Alert.Headline())
			return nil
		},
	})
	return cmd
}

// writeJSON writes v as one line of JSON without HTML escaping (messages
// keep their "<" and ">").
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
