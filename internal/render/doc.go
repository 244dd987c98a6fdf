// Package render renders the environments of a repository: it consults the
// render cache, renders what is missing in parallel (bounded by the core
// count, large environments in worker processes) and reports progress.
// Every command that needs rendered environments (build, validate, diff,
// snapshot) comes through Render with one Request, so each gets the
// cache, the parallelism and the same rendering policy (worker processes,
// GC target, ENVCTL_INPROCESS, ENVCTL_WORKER_MIN_OBJECTS) for free.
package render
