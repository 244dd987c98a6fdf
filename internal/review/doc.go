// Package review compares renders with renders, offline, for reviewing a
// change before it is deployed: each environment at a git revision against
// the working tree (Revision, `envctl diff --rev`), and one environment
// against another after the differences the repository expects between
// them are set aside (Environments, `envctl compare`). The comparison is
// the drift engine's (drift.Compare with Options.Baseline), so
// normalisation, hashed-generator pairing, rollout impact and Secret
// masking are the same as for a cluster.
package review
