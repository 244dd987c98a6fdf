package drift

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/envctl/envctl/internal/yamlguard"
)

// FuzzCompare feeds arbitrary YAML to the tree builder (fromYAML, the
// normalisation, managedFields and last-applied parsing) and the walk, as
// desired and live: Compare may refuse an input but must not panic, and an
// object compared with itself is in sync whatever it holds.
func FuzzCompare(f *testing.F) {
	f.Add([]byte(desiredDeployment), []byte(liveDeployment))
	f.Add([]byte(desiredDeployment), []byte(stripEvidence(f, liveDeployment)))
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelector: {}}\n"),
		[]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelector: {}, ingress: [{}]}\n"))
	f.Add([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n"), []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: Yg==}\n"))
	f.Fuzz(func(t *testing.T, desired, live []byte) {
		// Inputs reach Compare through yamlguard in envctl (alias bombs
		// and oversized documents are refused before any decoding).
		if len(desired)+len(live) > 1<<14 || yamlguard.Check(desired) != nil || yamlguard.Check(live) != nil {
			return
		}
		d, err1 := kio.FromBytes(desired)
		l, err2 := kio.FromBytes(live)
		if err1 != nil || err2 != nil {
			return
		}
		_, _ = Compare(d, l, Options{Selector: map[string]string{}})
		self, err := kio.FromBytes(desired)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Compare(d, self, Options{})
		if err != nil {
			return
		}
		for _, o := range rep.Objects {
			if o.Status != StatusInSync {
				t.Fatalf("an object compared with itself is %s: %+v", o.Status, o)
			}
		}
	})
}
