package drift

import (
	"strings"
	"testing"
)

func TestCompareRejectsBadInput(t *testing.T) {
	dep := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\n"
	tests := []struct {
		name    string
		desired string
		live    string
		opts    Options
		want    string
	}{
		{"an ignore pointer must start with a slash", dep, "", Options{Ignore: []IgnoreRule{{Pointer: "spec/replicas"}}}, "ignore rule 1: JSON pointer \"spec/replicas\" must be empty or start with /"},
		{"an ignore pointer must escape ~ as ~0", dep, "", Options{Ignore: []IgnoreRule{{Pointer: "/metadata/annotations/a~2b"}}}, "~ must be followed by 0 or 1"},
		{"an ignore name must be a valid glob", dep, "", Options{Ignore: []IgnoreRule{{Name: "[api", Pointer: "/spec"}}}, "name glob \"[api\""},
		{"a desired object must have a name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "", Options{}, "desired object 1: v1 ConfigMap has no metadata.name"},
		{"a desired object must have a kind", "apiVersion: v1\nmetadata:\n  name: x\n", "", Options{}, "desired object 1: no apiVersion or kind"},
		{"the same desired object twice is an error", docs(dep, strings.Replace(dep, "apps/v1", "apps/v1beta2", 1)), "", Options{}, "desired objects 1 and 2 are the same object, apps/v1beta2 Deployment shop/api"},
		{"the same live object twice is an error", "", docs(dep, dep), Options{}, "live objects 1 and 2 are the same object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compare(parseObjects(t, tt.desired), parseObjects(t, tt.live), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := Compare(nil, nil, Options{}); err != nil {
		t.Errorf("nothing against nothing: %v", err)
	}
}

func TestPathsAndPointers(t *testing.T) {
	r := mustCompare(t,
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\n  annotations:\n    example.com/a~b: \"2\"\ndata:\n  feature-flags.json: x\n  PLAIN_key-1: y\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\n  annotations:\n    example.com/a~b: \"1\"\ndata:\n  feature-flags.json: z\n  PLAIN_key-1: z\n",
		Options{})
	var got []string
	for _, c := range r.Objects[0].Changes {
		got = append(got, c.Path+" "+c.Pointer)
	}
	checkOutline(t, got, []string{
		"data.PLAIN_key-1 /data/PLAIN_key-1",
		`data["feature-flags.json"] /data/feature-flags.json`,
		`metadata.annotations["example.com/a~b"] /metadata/annotations/example.com~1a~0b`,
	})

	// List items: keys in the path, desired indexes in the pointer.
	r = mustCompare(t,
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: shop\nspec:\n  ports:\n  - name: a\n    port: 80\n  - name: \"b c\"\n    port: 81\n",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: shop\nspec:\n  ports:\n  - name: x\n    port: 81\n  - name: y\n    port: 80\n",
		Options{})
	got = nil
	for _, c := range r.Objects[0].Changes {
		got = append(got, c.Path+" "+c.Pointer)
	}
	checkOutline(t, got, []string{
		"spec.ports[port=80,protocol=TCP].name /spec/ports/0/name",
		"spec.ports[port=81,protocol=TCP].name /spec/ports/1/name",
	})
}

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int, change map[int]string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if s, ok := change[i]; ok {
				b.WriteString(s)
			} else {
				b.WriteString("line " + string(rune('a'+i-1)) + "\n")
			}
		}
		return b.String()
	}
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{
			name: "one changed line has three lines of context",
			a:    lines(9, nil),
			b:    lines(9, map[int]string{5: "LINE E\n"}),
			want: "@@ -2,7 +2,7 @@\n line b\n line c\n line d\n-line e\n+LINE E\n line f\n line g\n line h\n",
		},
		{
			name: "changes far apart make two hunks",
			a:    lines(20, nil),
			b:    lines(20, map[int]string{2: "B\n", 18: "R\n"}),
			want: "@@ -1,5 +1,5 @@\n line a\n-line b\n+B\n line c\n line d\n line e\n@@ -15,6 +15,6 @@\n line o\n line p\n line q\n-line r\n+R\n line s\n line t\n",
		},
		{
			name: "changes close together make one hunk",
			a:    lines(10, nil),
			b:    lines(10, map[int]string{2: "B\n", 8: "H\n"}),
			want: "@@ -1,10 +1,10 @@\n line a\n-line b\n+B\n line c\n line d\n line e\n line f\n line g\n-line h\n+H\n line i\n line j\n",
		},
		{
			name: "a line added at the end",
			a:    "a\nb\n",
			b:    "a\nb\nc\n",
			want: "@@ -1,2 +1,3 @@\n a\n b\n+c\n",
		},
		{
			name: "a missing final newline is marked",
			a:    "a\nb\n",
			b:    "a\nb",
			want: "@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n",
		},
		{
			name: "everything new",
			a:    "",
			b:    "x\ny\n",
			want: "@@ -0,0 +1,2 @@\n+x\n+y\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unifiedDiff(tt.a, tt.b); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestRollsCoverEveryWorkloadKind(t *testing.T) {
	cmNew, cmOld := "app-config-"+hashNew, "app-config-"+hashOld
	workloads := func(cm string) []string {
		tpl := func(indent string) string {
			return strings.ReplaceAll("containers:\n- name: c\n  image: i\n  env:\n  - name: X\n    valueFrom:\n      configMapKeyRef:\n        name: "+cm+"\n        key: X\n", "\n", "\n"+indent)
		}
		return []string{
			"apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: sts\n  namespace: shop\nspec:\n  template:\n    spec:\n      " + tpl("      "),
			"apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ds\n  namespace: shop\nspec:\n  template:\n    spec:\n      " + tpl("      "),
			"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: rs\n  namespace: shop\nspec:\n  template:\n    spec:\n      " + tpl("      "),
			"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: job\n  namespace: shop\nspec:\n  template:\n    spec:\n      " + tpl("      "),
			"apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod\n  namespace: shop\nspec:\n  " + tpl("  "),
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: vol\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: i\n      volumes:\n      - name: v\n        configMap:\n          name: " + cm + "\n",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: unrelated\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: i\n",
		}
	}
	cm := func(name, v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: shop\ndata:\n  X: " + v + "\n"
	}
	r := mustCompare(t, docs(append(workloads(cmNew), cm(cmNew, "new"))...), docs(append(workloads(cmOld), cm(cmOld, "old"))...), Options{})
	for _, o := range r.Objects {
		if o.ID.Kind != "ConfigMap" {
			continue
		}
		var got []string
		for _, id := range o.Rolls {
			got = append(got, id.Kind+"/"+id.Name)
		}
		checkOutline(t, got, []string{"DaemonSet/ds", "Deployment/vol", "Job/job", "Pod/pod", "ReplicaSet/rs", "StatefulSet/sts"})
	}
	for _, o := range r.Objects {
		for _, c := range o.Changes {
			if o.ID.Kind != "ConfigMap" && c.FollowsRename == nil {
				t.Errorf("%s: change %s does not follow the rename", o.ID, c.Path)
			}
		}
	}
	if r.Summary.Rolling != 6 {
		t.Errorf("summary %+v", r.Summary)
	}
}

func TestInventoryReplacesTheSelectorForOrphans(t *testing.T) {
	desired := parseObjects(t, `apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: ns}
data: {a: "1"}
`)
	live := parseObjects(t, `apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: ns}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: applied-then-dropped, namespace: ns}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: labelled-by-hand, namespace: ns, labels: {env: dev}}
`)
	rep, err := Compare(desired, live, Options{
		Selector:  map[string]string{"env": "dev"},
		Inventory: []ObjectID{{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "kept"}, {Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "applied-then-dropped"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, o := range rep.Objects {
		if o.Status == StatusOrphaned {
			orphans = append(orphans, o.ID.Name)
		}
	}
	if len(orphans) != 1 || orphans[0] != "applied-then-dropped" {
		t.Errorf("orphans %v, want [applied-then-dropped]", orphans)
	}
}
