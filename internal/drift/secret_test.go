package drift

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestSecrets(t *testing.T) {
	tests := []struct {
		name    string
		desired string
		live    string
		want    []string
	}{
		{
			name:    "stringData in the repository equals the same value as data in the cluster",
			desired: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData:\n  PASSWORD: s3cret\n",
			live:    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ntype: Opaque\ndata:\n  PASSWORD: " + b64("s3cret") + "\n",
			want:    nil,
		},
		{
			name:    "base64 wrapped over several lines equals its one-line form",
			desired: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  URL: |\n    cG9zdGdyZXM6Ly91c2VyOnBhc3N3b3JkQGRiLnNob3Auc3ZjLmNsdXN0ZXIubG9jYWw6NTQz\n    Mi9zaG9w\n",
			live:    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  URL: " + b64("postgres://user:password@db.shop.svc.cluster.local:5432/shop") + "\n",
			want:    nil,
		},
		{
			name:    "a changed Secret value is reported by key, masked",
			desired: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData:\n  PASSWORD: new-password\n  USER: app\n",
			live:    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  PASSWORD: " + b64("old-password") + "\n  USER: " + b64("app") + "\n  HAND: " + b64("x") + "\n",
			want: []string{
				"changed Secret shop/db",
				"! data.HAND: (secret)",
				"~ data.PASSWORD: (secret) → (secret)",
			},
		},
		{
			name:    "a service-account token's data filled by the control plane is not drift",
			desired: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sa-token\n  namespace: shop\n  annotations:\n    kubernetes.io/service-account.name: api\ntype: kubernetes.io/service-account-token\n",
			live:    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sa-token\n  namespace: shop\n  annotations:\n    kubernetes.io/service-account.name: api\n    kubernetes.io/service-account.uid: 123\ntype: kubernetes.io/service-account-token\ndata:\n  token: " + b64("eyJhbGciOi") + "\n  ca.crt: " + b64("cert") + "\n",
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOutline(t, outline(mustCompare(t, tt.desired, tt.live, Options{}), false), tt.want)
		})
	}
}

// TestSecretValuesNeverLeak plants known secret values in every place a
// Secret can carry them (desired data and stringData, live data, the
// last-applied-configuration annotation, a renamed hashed Secret, an orphan)
// and fails if any printer, fmt verb or JSON encoding of the report shows
// one, plain or base64-encoded.
func TestSecretValuesNeverLeak(t *testing.T) {
	plants := map[string]string{
		"desiredData":       "PLANT-desired-data-7d1e",
		"desiredStringData": "PLANT-desired-stringdata-91ac",
		"liveData":          "PLANT-live-data-44f0",
		"liveStringDataKey": "PLANT-live-token-0b2d",
		"lastApplied":       "PLANT-last-applied-e3c9",
		"lastAppliedString": "PLANT-last-applied-string-6a55",
		"extra":             "PLANT-hand-added-1f7b",
		"renamedOld":        "PLANT-renamed-old-8c31",
		"renamedNew":        "PLANT-renamed-new-2b94",
		"orphan":            "PLANT-orphan-5e02",
		"multiline":         "PLANT-line-one\nPLANT-line-two\nPLANT-line-three\n",
		"multilineOld":      "PLANT-line-one\nPLANT-line-2\nPLANT-line-three\n",
	}
	la := fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"shop"},"data":{"PASSWORD":%q,"OLD_KEY":%q},"stringData":{"API_TOKEN":%q}}`,
		b64(plants["lastApplied"]), b64(plants["lastApplied"]), plants["lastAppliedString"])
	desired := docs(
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\n  labels:\n    env: staging\ntype: Opaque\ndata:\n  PASSWORD: "+b64(plants["desiredData"])+"\n  CERT: "+b64(plants["multiline"])+"\nstringData:\n  API_TOKEN: "+plants["desiredStringData"]+"\n  NEW_KEY: "+plants["desiredStringData"]+"\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: api-keys-"+hashNew+"\n  namespace: shop\n  labels:\n    env: staging\ndata:\n  KEY: "+b64(plants["renamedNew"])+"\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: a\n        envFrom:\n        - secretRef:\n            name: api-keys-"+hashNew+"\n",
	)
	live := docs(
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\n  labels:\n    env: staging\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '"+la+"'\ntype: Opaque\ndata:\n  PASSWORD: "+b64(plants["liveData"])+"\n  CERT: "+b64(plants["multilineOld"])+"\n  API_TOKEN: "+b64(plants["liveStringDataKey"])+"\n  OLD_KEY: "+b64(plants["lastApplied"])+"\n  HAND: "+b64(plants["extra"])+"\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: api-keys-"+hashOld+"\n  namespace: shop\n  labels:\n    env: staging\ndata:\n  KEY: "+b64(plants["renamedOld"])+"\n  GONE: "+b64(plants["renamedOld"])+"\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: leftover\n  namespace: shop\n  labels:\n    env: staging\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"X\":\""+b64(plants["orphan"])+"\"}}'\ndata:\n  X: "+b64(plants["orphan"])+"\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: a\n        envFrom:\n        - secretRef:\n            name: api-keys-"+hashOld+"\n",
	)
	r := mustCompare(t, desired, live, Options{Environment: "staging", Selector: map[string]string{"env": "staging"}})

	// The report has the findings, by key.
	checkOutline(t, outline(r, false), []string{
		"changed Deployment shop/api",
		`~ spec.template.spec.containers[name=api].envFrom[0].secretRef.name: "api-keys-` + hashOld + `" → "api-keys-` + hashNew + `" (follows Secret rename)`,
		"changed Secret shop/api-keys-" + hashNew + " renamed api-keys-" + hashOld + "→api-keys-" + hashNew + " rolls Deployment/api",
		"- data.GONE: (secret)",
		"~ data.KEY: (secret) → (secret)",
		"changed Secret shop/db",
		"~ data.API_TOKEN: (secret) → (secret)",
		"~ data.CERT: (secret) → (secret)",
		"! data.HAND: (secret)",
		"+ data.NEW_KEY: (secret)",
		"- data.OLD_KEY: (secret)",
		"~ data.PASSWORD: (secret) → (secret)",
		"orphaned Secret shop/leftover",
	})

	var outputs []string
	for _, format := range Formats() {
		for _, opts := range []WriteOptions{{}, {Color: true, ShowInSync: true}} {
			p, err := NewPrinter(format, opts)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := p.Print(&b, []*Report{r}); err != nil {
				t.Fatal(err)
			}
			outputs = append(outputs, b.String())
		}
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js),
		fmt.Sprintf("%v", r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r),
		fmt.Sprintf("%v", *r), fmt.Sprintf("%+v", *r), fmt.Sprintf("%#v", *r))
	for _, o := range r.Objects {
		for _, c := range o.Changes {
			outputs = append(outputs, c.String(), fmt.Sprintf("%#v %+v %s %q %x", c, c, c.Old, c.New, c.Old.Data()))
			if m, ok := c.Old.Data().(Masked); ok {
				tb, _ := m.MarshalText()
				outputs = append(outputs, string(tb))
			}
		}
	}

	for name, v := range plants {
		forms := []string{v, b64(v), base64.URLEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v))}
		for _, line := range strings.Split(strings.TrimSpace(v), "\n") {
			forms = append(forms, line)
		}
		for i, out := range outputs {
			for _, f := range forms {
				if strings.Contains(out, f) {
					t.Errorf("output %d shows secret %s (%q):\n%s", i, name, f, out)
				}
			}
		}
	}
	if t.Failed() {
		return
	}
	// And the masked values say so.
	if !strings.Contains(outputs[0], "(secret value changed)") {
		t.Errorf("text output does not mark secret changes:\n%s", outputs[0])
	}
}

func TestMaskedPrintsTheSameEverywhere(t *testing.T) {
	var m Masked
	j, _ := json.Marshal(m)
	tx, _ := m.MarshalText()
	for _, got := range []string{m.String(), m.GoString(), string(tx), fmt.Sprintf("%v|%+v|%#v|%s|%q|%d", m, m, m, m, m, m), string(j)} {
		if strings.ReplaceAll(strings.ReplaceAll(got, `"`, ""), "|", "") != strings.Repeat("(secret)", strings.Count(got, "(secret)")) {
			t.Errorf("Masked printed %q", got)
		}
	}
	v := maskedValue()
	if s := fmt.Sprintf("%v %s %#v", v, v, v); s != "(secret) (secret) (secret)" {
		t.Errorf("masked Value printed %q", s)
	}
}
