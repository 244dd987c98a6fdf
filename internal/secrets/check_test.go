package secrets

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	_, prod := testKey(t)
	_, dev := testKey(t)
	root := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	encrypt := func(name, plain, rcp string) string {
		b, err := Encrypt(name, []byte(plain), EncryptOptions{Recipients: []string{rcp}})
		if err != nil {
			t.Fatal(err)
		}
		return write(name, string(b))
	}
	write(ConfigName, "creation_rules:\n  - path_regex: ^prod/\n    age: "+prod+"\n  - path_regex: ^dev/\n    age: "+dev+"\n")
	prodDB := encrypt("prod/secrets/db.env", "A=1\nB=2\n", prod)
	// A value added to the SOPS file by hand.
	b, _ := os.ReadFile(prodDB)
	os.WriteFile(prodDB, []byte("EXTRA=typed-by-hand\n"+string(b)), 0o600)
	base := write("base/secrets/db.env", "A=placeholder\n")
	devDB := encrypt("dev/secrets/db.env", "A=1\n", dev)
	envs := []CheckEnv{
		{Name: "prod", Dir: filepath.Join(root, "prod"), Production: true, Sources: []Source{
			{File: prodDB, Kustomization: filepath.Join(root, "prod/kustomization.yaml"), Line: 5, Generator: "db", Field: "envs"},
			{File: base, Kustomization: filepath.Join(root, "base/kustomization.yaml"), Line: 3, Generator: "db", Field: "envs"},
		}},
		{Name: "dev", Dir: filepath.Join(root, "dev"), Sources: []Source{{File: devDB, Generator: "db", Field: "envs"}}},
	}
	rep, err := Check(CheckRequest{Root: root, Envs: envs, Check: []string{"prod", "dev"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Env+" "+f.File+":"+strconv.Itoa(f.Line)+" "+f.Rule+" "+f.Message)
	}
	want := []string{`prod prod/secrets/db.env:1 secret-encrypted key "EXTRA" is not encrypted`}
	if len(got) != len(want) || !strings.HasPrefix(got[0], want[0]) {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(strings.Join(got, ""), "typed-by-hand") {
		t.Error("a finding quotes the value")
	}
	if rep.Files["prod"] != 1 {
		t.Errorf("prod: %d files checked; the shared base's placeholders are not prod's", rep.Files["prod"])
	}
}
