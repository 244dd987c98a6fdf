package overlay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"

func TestFailedRendersNameTheCauseFirst(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		dir   string
		// first is the first line of the error; kustomize's text follows.
		first string
	}{
		{
			name: "a missing patch file is named by its entry in patches",
			files: map[string]string{
				"/r/kustomization.yaml": "resources: [cm.yaml]\npatches:\n- path: ok.yaml\n- path: hpa-patch.yaml\n",
				"/r/cm.yaml":            configMap,
				"/r/ok.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata: {a: b}\n",
			},
			dir:   "/r",
			first: `/r/kustomization.yaml: patches[1]: file "hpa-patch.yaml" does not exist`,
		},
		{
			name: "a missing file of the deprecated patchesStrategicMerge is named too",
			files: map[string]string{
				"/r/kustomization.yaml": "resources: [cm.yaml]\npatchesStrategicMerge:\n- gone.yaml\n",
				"/r/cm.yaml":            configMap,
			},
			dir:   "/r",
			first: `/r/kustomization.yaml: patchesStrategicMerge[0]: file "gone.yaml" does not exist`,
		},
		{
			name: "a missing resource is named by its entry in resources, as written",
			files: map[string]string{
				"/r/env/kustomization.yaml":  "resources:\n- ../base\n- ../base/missing\n",
				"/r/base/kustomization.yaml": "resources: [cm.yaml]\n",
				"/r/base/cm.yaml":            configMap,
			},
			dir:   "/r/env",
			first: `/r/env/kustomization.yaml: resources[1]: "../base/missing" does not exist`,
		},
		{
			name: "a missing resource in a base names the base's kustomization",
			files: map[string]string{
				"/r/env/kustomization.yaml":  "resources: [../base]\n",
				"/r/base/kustomization.yaml": "resources: [cm.yaml, nope.yaml]\n",
				"/r/base/cm.yaml":            configMap,
			},
			dir:   "/r/env",
			first: `/r/base/kustomization.yaml: resources[1]: "nope.yaml" does not exist`,
		},
		{
			name: "a missing component is named by its entry in components",
			files: map[string]string{
				"/r/kustomization.yaml": "resources: [cm.yaml]\ncomponents: [../comp]\n",
				"/r/cm.yaml":            configMap,
			},
			dir:   "/r",
			first: `/r/kustomization.yaml: components[0]: "../comp" does not exist`,
		},
		{
			name: "a cycle through two bases is shown as the loop of directories",
			files: map[string]string{
				"/t/a/kustomization.yaml": "resources: [../b]\n",
				"/t/b/kustomization.yaml": "resources: [../a]\n",
			},
			dir:   "/t/a",
			first: `/t/b/kustomization.yaml: resources[0]: cycle: a -> b -> a`,
		},
		{
			name: "a cycle back to the environment is named where it closes",
			files: map[string]string{
				"/r/environments/dev/kustomization.yaml": "resources: [cm.yaml, ../../base]\n",
				"/r/environments/dev/cm.yaml":            configMap,
				"/r/base/kustomization.yaml":             "resources:\n- ../environments/dev\n",
			},
			dir:   "/r/environments/dev",
			first: `/r/base/kustomization.yaml: resources[0]: cycle: environments/dev -> base -> environments/dev`,
		},
		{
			name: "a kustomization that includes itself is a cycle of one",
			files: map[string]string{
				"/t/self/kustomization.yaml": "resources: [../self]\n",
			},
			dir:   "/t/self",
			first: `/t/self/kustomization.yaml: resources[0]: cycle: self -> self`,
		},
		{
			name: "including the directory that holds the kustomization is a cycle",
			files: map[string]string{
				"/r/envs/dev/kustomization.yaml": "resources: [..]\n",
				"/r/envs/kustomization.yaml":     "resources: []\n",
			},
			dir:   "/r/envs/dev",
			first: `/r/envs/dev/kustomization.yaml: resources[0]: cycle: envs/dev -> envs, which holds envs/dev`,
		},
		{
			name: "an env file line that is not UTF-8 is named by generator, file and line",
			files: map[string]string{
				"/r/kustomization.yaml": "configMapGenerator:\n- name: other\n  literals: [A=1]\n- name: app-config\n  envs: [ok.env, app.env]\n",
				"/r/ok.env":             "A=1\n",
				"/r/app.env":            "# settings\nA=1\nB=caf\xe9\n",
			},
			dir:   "/r",
			first: `/r/kustomization.yaml: configMapGenerator[1] "app-config": envs[1] "app.env": line 3: byte 6 is not valid UTF-8`,
		},
		{
			name: "the older, singular env field is named as env",
			files: map[string]string{
				"/r/kustomization.yaml": "configMapGenerator:\n- name: app-config\n  env: app.env\n",
				"/r/app.env":            "\xffA=1\n",
			},
			dir:   "/r",
			first: `/r/kustomization.yaml: configMapGenerator[0] "app-config": env "app.env": line 1: byte 1 is not valid UTF-8`,
		},
		{
			name: "a missing env file is named",
			files: map[string]string{
				"/r/kustomization.yaml": "secretGenerator:\n- name: db\n  envs: [db.env]\n",
			},
			dir:   "/r",
			first: `/r/kustomization.yaml: secretGenerator[0] "db": envs[0] "db.env": file does not exist`,
		},
		{
			name: "a missing generator file is named with its key",
			files: map[string]string{
				"/r/kustomization.yaml": "configMapGenerator:\n- name: app\n  files: [settings=settings.json]\n",
			},
			dir:   "/r",
			first: `/r/kustomization.yaml: configMapGenerator[0] "app": files[0] "settings=settings.json": file does not exist`,
		},
		{
			name: "of two mistakes, the one kustomize met first is named",
			files: map[string]string{
				"/r/env/kustomization.yaml":  "resources: [../base, gone.yaml]\npatches:\n- path: gone-patch.yaml\n",
				"/r/base/kustomization.yaml": "resources: [cm.yaml]\npatches:\n- path: base-patch.yaml\n",
				"/r/base/cm.yaml":            configMap,
			},
			dir:   "/r/env",
			first: `/r/base/kustomization.yaml: patches[0]: file "base-patch.yaml" does not exist`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(context.Background(), memTree(t, tc.files), tc.dir, Options{})
			if err == nil {
				t.Fatal("the render succeeded")
			}
			var re *Error
			if !errors.As(err, &re) || re.Cause == nil {
				t.Fatalf("no cause found in %q", err)
			}
			first, rest, _ := strings.Cut(err.Error(), "\n")
			if first != tc.first {
				t.Errorf("first line\n got %s\nwant %s", first, tc.first)
			}
			if want := "kustomize: " + re.Err.Error(); !strings.HasPrefix(rest, want) {
				t.Errorf("second line %q, want kustomize's text %q", rest, want)
			}
		})
	}
}

func TestAMistakeKustomizeDidNotReachIsNotBlamed(t *testing.T) {
	// kustomize stops at the broken resource; the missing patch after it
	// was never looked for, so the message stays kustomize's own.
	_, err := Render(context.Background(), memTree(t, map[string]string{
		"/r/kustomization.yaml": "resources: [broken.yaml]\npatches:\n- path: gone.yaml\n",
		"/r/broken.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n bad: [\n",
	}), "/r", Options{})
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("want an *Error, got %v", err)
	}
	if re.Cause != nil {
		t.Errorf("blamed %s for %q", re.Cause, re.Err)
	}
	if strings.Contains(err.Error(), "\nkustomize: ") {
		t.Errorf("a message without a cause was split: %q", err)
	}
}

func TestASecretsEnvLineNeverAppearsInTheError(t *testing.T) {
	line := "PASSWORD=hunter2\xff"
	_, err := Render(context.Background(), memTree(t, map[string]string{
		"/r/kustomization.yaml": "secretGenerator:\n- name: db\n  envs: [db.env]\n",
		"/r/db.env":             "USER=app\n" + line + "\n",
	}), "/r", Options{})
	if err == nil {
		t.Fatal("the render succeeded")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, `/r/kustomization.yaml: secretGenerator[0] "db": envs[0] "db.env": line 2: byte 17 is not valid UTF-8`+"\n") {
		t.Errorf("unexpected message %q", msg)
	}
	for _, leak := range []string{"hunter2", fmt.Sprintf("%d", []byte(line)), "104 117 110"} {
		if strings.Contains(msg, leak) {
			t.Errorf("the message holds the Secret's value (%q): %q", leak, msg)
		}
	}
	// A ConfigMap's line is no secret: kustomize's text stays whole.
	_, err = Render(context.Background(), memTree(t, map[string]string{
		"/r/kustomization.yaml": "configMapGenerator:\n- name: app\n  envs: [app.env]\n",
		"/r/app.env":            line + "\n",
	}), "/r", Options{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d", []byte(line))) {
		t.Errorf("kustomize's text was cut for a ConfigMap: %v", err)
	}
}

func TestConcealLineWithholdsAMessageItDoesNotKnow(t *testing.T) {
	if got := concealLine("something new: PASSWORD=x", []byte("PASSWORD=x")); strings.Contains(got, "PASSWORD") {
		t.Errorf("concealLine kept the line: %q", got)
	}
}

func TestAnEnvLineWithoutEqualsRendersAsInKustomize(t *testing.T) {
	// kustomize v5.8.2 takes a line without "=" as a key with an empty
	// value (its env-var-name check is a no-op): not an error, so envctl
	// must render it too, byte for byte.
	r, err := Render(context.Background(), memTree(t, map[string]string{
		"/r/kustomization.yaml": "configMapGenerator:\n- name: app\n  envs: [app.env]\n",
		"/r/app.env":            "A=1\nnot a pair\n",
	}), "/r", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.YAML), `not a pair: ""`) {
		t.Errorf("rendered\n%s", r.YAML)
	}
}

func TestShortValuesAreConcealedAsWholeTokens(t *testing.T) {
	msg := `invalid literal "PIN=42x" in "db"; the token is 42x, not 42xy or b42x; 52 50 120`
	got := conceal(msg, []string{"42x"})
	want := `invalid literal "PIN=(value hidden: Secret)" in "db"; the token is (value hidden: Secret), not 42xy or b42x; (value hidden: Secret)`
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := conceal("line 1 of x", []string{"1"}); got != "line 1 of x" {
		t.Errorf("a one-character value was concealed: %q", got)
	}
}
