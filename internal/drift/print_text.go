package drift

import (
	"bufio"
	"io"
	"strings"
)

// textPrinter renders reports for a terminal:
//
//	apps/v1 Deployment shop/api: changed (2 fields)
//	  ~ spec.replicas: 5 → 2
//	  ! spec.template.spec.containers[name=api].env[name=DEBUG]: {"name":"DEBUG","value":"1"} (only in the cluster, not removed by apply; set by kubectl-edit)
//
//	v1 ConfigMap shop/app-config: changed (1 field)
//	  renamed app-config-5f7k2dgh6m → app-config-9m4c8hbk2t
//	  rolls apps/v1 Deployment shop/api
//	  ~ data["feature-flags.json"]:
//	      @@ -1,3 +1,3 @@
//	      ...
//
//	staging: 2 changed, 12 in sync (14 objects); 1 renamed, 1 workload will roll
//
// Symbols: ~ changed (live → repository), + only in the repository, - no
// longer in the repository, ! only in the cluster. Values are JSON;
// secrets print as (secret).
type textPrinter struct{ opts WriteOptions }

const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
	ansiDim     = "\x1b[2m"
)

func (p textPrinter) paint(color, s string) string {
	if !p.opts.Color || s == "" {
		return s
	}
	return color + s + ansiReset
}

func (p textPrinter) Print(w io.Writer, reports []*Report) error {
	bw := bufio.NewWriter(w)
	for i, r := range reports {
		if i > 0 {
			bw.WriteString("\n")
		}
		if !r.Rollout.Empty() {
			p.rollout(bw, r.Rollout)
			bw.WriteString("\n")
		}
		for _, o := range listed(r, p.opts.ShowInSync) {
			p.object(bw, o, r.Baseline != "")
			bw.WriteString("\n")
		}
		label := r.Environment
		if label == "" {
			label = "summary"
		}
		if r.Baseline != "" {
			label = title(r)
		}
		bw.WriteString(p.paint(ansiBold, label+": "+summaryLine(r.Summary)) + "\n")
	}
	return bw.Flush()
}

// WriteRollout prints a rollout impact as the text report does (for
// plans, which print their own steps).
func WriteRollout(w io.Writer, r *Rollout) error {
	if r.Empty() {
		return nil
	}
	bw := bufio.NewWriter(w)
	textPrinter{}.rollout(bw, r)
	return bw.Flush()
}

// rollout prints the rollout impact: the workloads that roll and why,
// then those that need attention.
func (p textPrinter) rollout(w *bufio.Writer, r *Rollout) {
	plain := func(s string) string { return s }
	w.WriteString(p.paint(ansiBold, "rollout impact:") + "\n")
	for _, rs := range r.Restarts {
		why := make([]string, len(rs.Reasons))
		for i, x := range rs.Reasons {
			why[i] = reasonText(x, plain)
		}
		w.WriteString("  " + rs.Workload.String() + " rolls: " + strings.Join(why, ", ") + "\n")
	}
	for _, a := range r.Attention {
		w.WriteString("  " + p.paint(ansiRed, "!") + " " + attentionText(a, plain) + "\n")
	}
}

func (p textPrinter) object(w *bufio.Writer, o ObjectResult, baseline bool) {
	color := map[Status]string{StatusChanged: ansiYellow, StatusMissing: ansiRed, StatusOrphaned: ansiMagenta, StatusInSync: ansiGreen,
		StatusAdded: ansiGreen, StatusRemoved: ansiRed, StatusUnchanged: ansiGreen}[o.Status]
	w.WriteString(p.paint(ansiBold, objectTitle(o)) + ": " + p.paint(color, statusPhrase(o)) + "\n")
	if o.Renamed != nil {
		w.WriteString("  renamed " + o.Renamed.From + " → " + o.Renamed.To + "\n")
	}
	if len(o.Rolls) > 0 {
		names := make([]string, len(o.Rolls))
		for i, r := range o.Rolls {
			names[i] = r.String()
		}
		w.WriteString("  rolls " + strings.Join(names, ", ") + "\n")
	}
	for _, c := range o.Changes {
		sym := changeSymbol(c.Kind)
		color := map[ChangeKind]string{FieldChanged: ansiYellow, FieldAdded: ansiGreen, FieldRemoved: ansiRed, FieldExtra: ansiCyan}[c.Kind]
		line := "  " + p.paint(color, sym) + " " + c.Path + ":"
		note := changeNote(c, baseline)
		if c.TextDiff != "" {
			if note != "" {
				line += " " + p.paint(ansiDim, note)
			}
			w.WriteString(line + "\n")
			for _, dl := range strings.SplitAfter(strings.TrimSuffix(c.TextDiff, "\n"), "\n") {
				dl = strings.TrimSuffix(dl, "\n")
				switch {
				case strings.HasPrefix(dl, "@@"):
					dl = p.paint(ansiCyan, dl)
				case strings.HasPrefix(dl, "-"):
					dl = p.paint(ansiRed, dl)
				case strings.HasPrefix(dl, "+"):
					dl = p.paint(ansiGreen, dl)
				}
				w.WriteString("      " + dl + "\n")
			}
			continue
		}
		line += " " + changeValues(c)
		if note != "" {
			line += " " + p.paint(ansiDim, note)
		}
		w.WriteString(line + "\n")
	}
}
