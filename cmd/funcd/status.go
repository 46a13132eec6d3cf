package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/funcd/funcd/runtime/gateway"
)

const statusExamples = `  funcd status
  funcd status --url http://127.0.0.1:9090
`

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", "status [flags]", statusExamples, stderr)
	gatewayURL := fs.String("url", "http://127.0.0.1:8080", "gateway URL of a running funcd up")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument "+fs.Arg(0))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(*gatewayURL, "/")+"/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("is funcd up running? %w", err)
	}
	defer resp.Body.Close()
	var list struct {
		Functions     []gateway.FunctionInfo     `json:"functions"`
		Subscriptions []gateway.SubscriptionInfo `json:"subscriptions"`
		Ports         []gateway.PortInfo         `json:"ports"`
		Topics        []gateway.TopicInfo        `json:"topics"`
		MaxTopics     int                        `json:"maxTopics"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unexpected answer from %s: %d %v", *gatewayURL, resp.StatusCode, err)
	}
	if err := writeStatus(stdout, list.Functions, list.Subscriptions); err != nil {
		return err
	}
	if err := writeTopics(stdout, list.Topics, list.MaxTopics); err != nil {
		return err
	}
	return writePorts(stdout, list.Ports)
}

// writeTopics lists the embedded broker's topics, what each holds and
// keeps, and the bound on them.
func writeTopics(w io.Writer, topics []gateway.TopicInfo, max int) error {
	if max == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "TOPIC (%d of at most %d)\tMESSAGES\tBYTES\tKEPT AT MOST\tDUPLICATE WINDOW\n", len(topics), max)
	for _, t := range topics {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s, %d bytes, %d messages\t%s\n", t.Topic, t.Messages, t.Bytes, t.MaxAge, t.MaxBytes, t.MaxMsgs, t.DuplicateWindow)
	}
	return tw.Flush()
}

// writePorts lists the ports funcd listens on and what protects each.
func writePorts(w io.Writer, ports []gateway.PortInfo) error {
	if len(ports) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tADDRESS\tPROTECTED BY")
	for _, p := range ports {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.What, p.Address, p.Protected)
	}
	return tw.Flush()
}

// writeStatus writes one line per function (state, instances, counters),
// why each failed function failed, then one line per subscription (what
// became of its messages).
func writeStatus(w io.Writer, fns []gateway.FunctionInfo, subs []gateway.SubscriptionInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tSTATE\tINSTANCES\tIN FLIGHT\tCOLD STARTS\tCOLD P50\tCOLD P99\tREQUESTS\tDELIVERIES\tFAILURES")
	for _, f := range fns {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%d\n", f.Name, f.State, f.Instances, f.InFlight,
			f.ColdStarts, f.ColdStartP50, f.ColdStartP99, f.Requests, f.Deliveries, f.Failures)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range fns {
		if f.State == "failed" && f.Error != "" {
			fmt.Fprintf(w, "\n%s failed:\n%s\n", f.Name, indent(f.Error))
		}
	}
	if len(subs) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBSCRIPTION\tTOPIC\tDELIVERED\tRETRIES\tDEAD-LETTERED\tDROPPED\tRETURNED")
	for _, s := range subs {
		fmt.Fprintf(tw, "%s\t%s/%s\t%d\t%d\t%d\t%d\t%d\n", s.Name, s.PubSub, s.Topic,
			s.Delivered, s.Retries, s.DeadLettered, s.Dropped, s.Returned)
	}
	return tw.Flush()
}
