#!/usr/bin/env bash
# Regenerates cmd/envctl/default.pgo, the CPU profile that `go build`,
# `go install` and `go run` use for profile-guided optimisation of envctl
# (Go picks up default.pgo in the main package automatically).
#
# Nearly all of envctl's CPU time is kustomize's rendering, so the profile
# is of rendering: the example environments and a generated 2,000-object
# environment (internal/overlay/bench_test.go). Regenerate it after
# upgrading kustomize or Go, and measure with `go run ./bench`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

go test ./internal/overlay -run '^$' -bench '^BenchmarkRenderExamples$' -benchtime 60x -cpuprofile "$tmp/examples.prof" -o "$tmp/overlay.test"
go test ./internal/overlay -run '^$' -bench '^BenchmarkRenderGenerated$' -benchtime 2x -cpuprofile "$tmp/generated.prof" -o "$tmp/overlay.test"
go tool pprof -proto "$tmp/examples.prof" "$tmp/generated.prof" > cmd/envctl/default.pgo
echo "pgo.sh: wrote cmd/envctl/default.pgo ($(wc -c < cmd/envctl/default.pgo) bytes)" >&2
