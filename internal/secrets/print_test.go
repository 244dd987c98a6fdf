package secrets

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestCheckPrinters(t *testing.T) {
	rep := &CheckReport{
		Envs:  []string{"staging", "prod"},
		Files: map[string]int{"staging": 1, "prod": 2},
		Findings: []Finding{
			{Env: "prod", Secret: "db", File: "environments/prod/db.env", Line: 2, Rule: RuleEncrypted, Message: "is not SOPS-encrypted"},
			{Env: "prod", File: "environments/prod/db.env.dec", Rule: RulePlaintextFile, Message: "is a plaintext file"},
		},
	}
	var b bytes.Buffer
	p, _ := NewCheckPrinter("text")
	if err := p.Print(&b, rep); err != nil {
		t.Fatal(err)
	}
	want := `staging: 1 secret source checked, 0 findings
prod: 2 secret sources checked, 2 findings
  environments/prod/db.env:2: is not SOPS-encrypted [secret-encrypted]
  environments/prod/db.env.dec: is a plaintext file [secret-plaintext-file]
`
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	p, _ = NewCheckPrinter("json")
	if err := p.Print(&b, rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Findings []Finding         `json:"findings"`
		Rules    map[string]string `json:"rules"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != 2 || got.Findings[0] != rep.Findings[0] || got.Rules[RuleEncrypted] == "" || len(got.Rules) != 2 {
		t.Errorf("json:\n%s", b.String())
	}
	if _, err := NewCheckPrinter("sarif"); err == nil {
		t.Error("an unknown format has a printer")
	}
}
