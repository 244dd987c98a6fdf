package secrets

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/envctl/envctl/internal/report"
)

// checkPrinters are the output formats of `envctl secrets check`.
var checkPrinters = report.Formats[*CheckReport, struct{}]{
	{Name: "text", New: func(struct{}) report.Printer[*CheckReport] { return report.PrinterFunc[*CheckReport](writeCheckText) }},
	{Name: "json", New: func(struct{}) report.Printer[*CheckReport] { return report.PrinterFunc[*CheckReport](writeCheckJSON) }},
}

// CheckFormats lists the output formats of a check report.
func CheckFormats() []string { return checkPrinters.Names() }

// NewCheckPrinter returns the printer of a check report format.
func NewCheckPrinter(format string) (report.Printer[*CheckReport], error) {
	return checkPrinters.New(format, struct{}{})
}

// writeCheckText prints one line per finding, file:line first as
// compilers do, under a line per environment.
func writeCheckText(w io.Writer, rep *CheckReport) error {
	var b strings.Builder
	for _, env := range rep.Envs {
		var fs []Finding
		for _, f := range rep.Findings {
			if f.Env == env {
				fs = append(fs, f)
			}
		}
		fmt.Fprintf(&b, "%s: %s checked, %s\n", env, report.Plural(rep.Files[env], "secret source", "secret sources"), report.Plural(len(fs), "finding", "findings"))
		for _, f := range fs {
			where := f.File
			if f.Line > 0 {
				where = fmt.Sprintf("%s:%d", f.File, f.Line)
			}
			fmt.Fprintf(&b, "  %s: %s [%s]\n", where, f.Message, f.Rule)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCheckJSON(w io.Writer, rep *CheckReport) error {
	rules := map[string]string{}
	for _, f := range rep.Findings {
		rules[f.Rule] = CheckRules[f.Rule]
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*CheckReport
		Rules map[string]string `json:"rules"`
	}{rep, rules})
}
