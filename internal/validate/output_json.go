package validate

import (
	"encoding/json"
	"io"
	"slices"
)

type jsonReport struct {
	KubernetesVersion string            `json:"kubernetesVersion"`
	EnvVersions       map[string]string `json:"environmentVersions,omitempty"`
	Strict            bool              `json:"strict"`
	Environments      []string          `json:"environments,omitempty"`
	Summary           jsonSummary       `json:"summary"`
	Results           []jsonResult      `json:"results"`
	Rules             map[string]string `json:"rules"`
}

type jsonSummary struct {
	Valid   int `json:"valid"`
	Invalid int `json:"invalid"`
	Errors  int `json:"errors"`
	Skipped int `json:"skipped"`
}

type jsonResult struct {
	Environment string        `json:"environment,omitempty"`
	Object      Object        `json:"object"`
	Status      string        `json:"status"`
	Reason      string        `json:"reason,omitempty"`
	Notes       []string      `json:"notes,omitempty"`
	Source      *Source       `json:"source,omitempty"`
	Problems    []jsonProblem `json:"problems,omitempty"`
}

type jsonProblem struct {
	Rule    string `json:"rule"`
	Field   string `json:"field"`
	Path    string `json:"path"`
	Key     string `json:"key,omitempty"`
	Pointer string `json:"pointer,omitempty"`
	Message string `json:"message"`
	Schema  string `json:"schema,omitempty"`
	Line    int    `json:"line,omitempty"`
}

func writeJSON(w io.Writer, rep *Report) error {
	c := rep.Count(nil)
	out := jsonReport{
		KubernetesVersion: rep.KubernetesVersion,
		EnvVersions:       rep.EnvVersions,
		Strict:            rep.Strict,
		Environments:      rep.Envs,
		Summary:           jsonSummary(c),
		Results:           []jsonResult{},
		Rules:             rep.Rules,
	}
	for _, r := range rep.Results {
		jr := jsonResult{Environment: r.Env, Object: r.Object, Status: r.Status.String(), Reason: r.Reason, Notes: r.Notes}
		if r.Source.File != "" {
			src := r.Source
			jr.Source = &src
		}
		for _, p := range r.Problems {
			jr.Problems = append(jr.Problems, jsonProblem{Rule: p.Rule, Field: FieldPath(p.Path), Path: p.Path, Key: p.Key, Pointer: p.Pointer, Message: p.Message, Schema: p.Schema, Line: p.Line})
		}
		out.Results = append(out.Results, jr)
	}
	if out.Rules == nil {
		out.Rules = map[string]string{}
	}
	out.Environments = slices.Clone(out.Environments)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
