package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/funcd/funcd/runtime/apps"
)

// writeApps prints what each Dapr app's subscriptions did.
func writeApps(w io.Writer, list []apps.Status) error {
	if len(list) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tTOPIC\tDELIVERED\tRETRIES\tDEAD-LETTERED\tDROPPED\tRETURNED")
	for _, a := range list {
		if len(a.Subscriptions) == 0 {
			fmt.Fprintf(tw, "%s\t-\t\t\t\t\t\n", a.ID)
		}
		for _, s := range a.Subscriptions {
			fmt.Fprintf(tw, "%s\t%s/%s\t%d\t%d\t%d\t%d\t%d\n", a.ID, s.PubSub, s.Topic,
				s.Delivered, s.Retries, s.DeadLettered, s.Dropped, s.Returned)
		}
	}
	return tw.Flush()
}
