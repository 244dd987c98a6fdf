package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/envctl/envctl/internal/cli"
	"github.com/envctl/envctl/internal/testtools"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// The example's staging and prod secrets are SOPS files: renders in
	// this process (golden files) decrypt them with its example keys.
	testtools.UseExampleAgeKeys("../..")
	testscript.Main(m, map[string]func(){
		"envctl": func() { os.Exit(cli.Run(os.Args[1:], cli.Stdio())) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script: each is a user's
// session with the real binary, its files, output and exit code.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		// -update rewrites the files a script compares its output with.
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", root)
			env.Setenv("GOLDEN", filepath.Join(root, "cmd", "envctl", "testdata", "golden"))
			env.Setenv("SNAPSHOTS", filepath.Join(root, "cmd", "envctl", "testdata", "snapshots"))
			// Each script gets its own render cache.
			env.Setenv("ENVCTL_CACHE_DIR", filepath.Join(env.WorkDir, ".envctl-cache"))
			// The example's age keys, so its staging and prod render; a
			// script about missing keys sets SOPS_AGE_KEY= itself.
			env.Setenv("SOPS_AGE_KEY", os.Getenv("SOPS_AGE_KEY"))
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, errors.New("unknown condition " + cond)
		},
		Cmds: scriptCmds,
	})
}

// scriptCmds are the commands testscripts get beyond the built-in ones.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// no-secret VALUE... fails if the last command's stdout or stderr
	// holds a value as text, base64, hex or the decimal bytes Go's %v
	// prints for a []byte.
	"no-secret": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) == 0 {
			ts.Fatalf("usage: no-secret VALUE...")
		}
		out := ts.ReadFile("stdout") + ts.ReadFile("stderr")
		for _, v := range args {
			for form, s := range map[string]string{
				"plain":   v,
				"base64":  base64.StdEncoding.EncodeToString([]byte(v)),
				"hex":     hex.EncodeToString([]byte(v)),
				"decimal": strings.Trim(fmt.Sprint([]byte(v)), "[]"),
			} {
				if strings.Contains(out, s) {
					ts.Fatalf("the secret value %q is in the output (%s)", v, form)
				}
			}
		}
	},
	// exits CODE PROG ARGS... runs PROG and requires exit code
	// CODE; stdout and stderr stay available to later checks.
	"exits": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: exits CODE PROG [ARGS...]")
		}
		want, err := strconv.Atoi(args[0])
		if err != nil {
			ts.Fatalf("exits: bad code %q", args[0])
		}
		got := 0
		if err := ts.Exec(args[1], args[2:]...); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				ts.Fatalf("exits: %v", err)
			}
			got = ee.ExitCode()
		}
		if got != want {
			ts.Fatalf("%s exited %d, want %d", args[1], got, want)
		}
	},
}
