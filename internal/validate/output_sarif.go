package validate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/version"
)

// SARIF 2.1.0, the subset GitHub code scanning reads.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifText    `json:"shortDescription"`
	FullDescription      sarifText    `json:"fullDescription"`
	DefaultConfiguration sarifLevel   `json:"defaultConfiguration"`
	Help                 sarifText    `json:"help"`
	Properties           sarifRuleTag `json:"properties"`
}

type sarifRuleTag struct {
	Tags []string `json:"tags"`
}

type sarifLevel struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// writeSARIF prints one SARIF result per problem, with the rule's id, the
// repository-relative file and line where known, and the object as a
// logical location. Objects that could not be checked are tool execution
// notifications (and executionSuccessful is false).
func writeSARIF(w io.Writer, rep *Report) error {
	ids := make([]string, 0, len(rep.Rules))
	for id := range rep.Rules {
		ids = append(ids, id)
	}
	for _, id := range rep.RuleIDs() {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	index := map[string]int{}
	driver := sarifDriver{Name: "envctl", InformationURI: "https://github.com/envctl/envctl", Version: version.Read().Version, Rules: []sarifRule{}}
	for i, id := range ids {
		index[id] = i
		desc := rep.Rules[id]
		if desc == "" {
			desc = "Rule " + id + "."
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: id, Name: ruleName(id),
			ShortDescription:     sarifText{firstSentence(desc)},
			FullDescription:      sarifText{desc},
			DefaultConfiguration: sarifLevel{"error"},
			Help:                 sarifText{desc},
			Properties:           sarifRuleTag{Tags: []string{"kubernetes", ruleTag(id)}},
		})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	inv := sarifInvocation{ExecutionSuccessful: true}
	for _, r := range rep.Results {
		logical := []sarifLogical{{Name: r.Object.String(), FullyQualifiedName: qualifiedName(r), Kind: "object"}}
		switch r.Status {
		case Error:
			inv.ExecutionSuccessful = false
			n := sarifNotification{Level: "error", Message: sarifText{envPrefix(r) + r.Object.String() + ": " + r.Reason}}
			n.Locations = []sarifLocation{location(r.Source.File, r.Source.Line, logical)}
			inv.Notifications = append(inv.Notifications, n)
		case Invalid:
			for _, p := range r.Problems {
				line := p.Line
				if line == 0 {
					line = r.Source.Line
				}
				run.Results = append(run.Results, sarifResult{
					RuleID: p.Rule, RuleIndex: index[p.Rule], Level: "error",
					Message:             sarifText{envPrefix(r) + r.Object.String() + ": " + problemWhere(p) + ": " + p.Message},
					Locations:           []sarifLocation{location(r.Source.File, line, logical)},
					PartialFingerprints: map[string]string{"envctlFinding/v1": fingerprint(r, p)},
				})
			}
		}
	}
	run.Invocations = []sarifInvocation{inv}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func location(file string, line int, logical []sarifLogical) sarifLocation {
	loc := sarifLocation{LogicalLocations: logical}
	if file != "" && file != "-" {
		loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: file, URIBaseID: "%SRCROOT%"}}
		if line <= 0 {
			line = 1
		}
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: line}
	}
	return loc
}

func envPrefix(r Result) string {
	if r.Env == "" {
		return ""
	}
	return r.Env + ": "
}

func qualifiedName(r Result) string {
	parts := []string{r.Object.APIVersion, r.Object.Kind}
	if r.Object.Namespace != "" {
		parts = append(parts, r.Object.Namespace)
	}
	parts = append(parts, r.Object.Name)
	s := strings.Join(parts, "/")
	if r.Env != "" {
		s = r.Env + ":" + s
	}
	return s
}

// fingerprint identifies a finding across runs: a generated name's hash
// suffix changes with its content and is left out, so an alert does not
// reopen whenever a value changes.
func fingerprint(r Result, p Problem) string {
	name := r.Object.Name
	if len(name) > 11 && manifest.GeneratedName(name, name[:len(name)-11]) {
		name = name[:len(name)-11]
	}
	h := sha256.Sum256([]byte(strings.Join([]string{r.Env, r.Object.APIVersion, r.Object.Kind, r.Object.Namespace, name, p.Rule, p.Path, p.Pointer}, "\x00")))
	return hex.EncodeToString(h[:16])
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// ruleName is the rule id in CamelCase, as SARIF viewers show names.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '/' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func ruleTag(id string) string {
	switch id {
	case RuleKubernetesSchema, RuleCRDSchema, RuleCRDCEL, RuleAPILimits, RuleServerDryRun:
		return "schema"
	case RuleContract, RuleContractPayload:
		return "contract"
	}
	return "policy"
}
