// Package compose renders the environments of a repository: it consults the
// render cache, renders what is missing in parallel (bounded by the core
// count) and reports progress. Commands that need rendered environments
// (build, validate, diff) all come through here, so each gets the cache and
// the parallelism for free.
package compose
