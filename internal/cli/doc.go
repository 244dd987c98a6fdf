// Package cli is envctl's command line: cobra commands that parse flags
// into option structs and call into the internal packages. Commands stay
// thin; the decisions live in repo, overlay, compose and friends.
package cli
