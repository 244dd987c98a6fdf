// Package report owns what every envctl report shares, whatever the
// command: the printer shape (a Printer per output format, one Formats
// list per command), the -o error a user sees for a format that does not
// exist, the decision to colour text, the JUnit XML writer, and the few
// words printers use to count things.
//
// A command's engine returns values (drift.Report, validate.Report); the
// command's package turns them into bytes with printers built on this
// package, so `envctl diff`, `envctl validate` and the reports still to
// come (plan, history, compare) take -o the same way, fail the same way on
// a bad -o, and write JUnit the same way.
//
// report does not import cobra: it is about output, and it is used by
// engines' packages that know nothing of a command line. Shell completion
// of -o needs nothing from here beyond the list of names; cobra already
// has the completion function for a fixed list:
//
//	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(drift.Formats(), cobra.ShellCompDirectiveNoFileComp))
package report
