// Package repo owns the layout of an envctl repository: finding its root,
// decoding envctl.yaml strictly, and the registry of environments that the
// rest of envctl renders, validates and compares.
package repo
