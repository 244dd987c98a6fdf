package translate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"k8s.io/apimachinery/pkg/api/resource"
)

// parse decodes JSON the way the validator expects (json.Number).
func parse(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return v
}

// compile translates OpenAPI definitions (name → schema, as JSON) and
// compiles the one named root, closed if strict.
func compile(t *testing.T, defs map[string]string, root string, strict bool) *jsonschema.Schema {
	t.Helper()
	var tr Translator
	out := map[string]any{}
	for name, js := range defs {
		s, err := tr.Definition(name, parse(t, js).(map[string]any))
		if err != nil {
			t.Fatalf("translating %s: %v", name, err)
		}
		out[name] = s
	}
	var doc any = map[string]any{"$defs": out}
	if strict {
		doc = Close(doc)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	for name, f := range Formats {
		c.Formats[name] = f
	}
	if err := c.AddResource("mem://t.json", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("mem://t.json#/$defs/" + root)
	if err != nil {
		t.Fatalf("compiling %s: %v\nschema: %s", root, err, data)
	}
	return sch
}

type tcase struct {
	instance string
	valid    bool
}

func check(t *testing.T, sch *jsonschema.Schema, cases []tcase) {
	t.Helper()
	for _, c := range cases {
		err := sch.Validate(parse(t, c.instance))
		if c.valid && err != nil {
			t.Errorf("%s: want valid, got %v", c.instance, err)
		}
		if !c.valid && err == nil {
			t.Errorf("%s: want invalid, got valid", c.instance)
		}
	}
}

func TestIntOrStringExtension(t *testing.T) {
	sch := compile(t, map[string]string{
		"Obj": `{"type":"object","properties":{
			"port":{"x-kubernetes-int-or-string":true},
			"crd":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]}}}`,
	}, "Obj", true)
	check(t, sch, []tcase{
		{`{"port":8080}`, true},
		{`{"port":"http"}`, true},
		{`{"port":"50%"}`, true},
		{`{"crd":3,"port":"x"}`, true},
		{`{"port":null}`, true}, // optional
		{`{"port":1.5}`, false},
		{`{"port":true}`, false},
		{`{"port":[80]}`, false},
		{`{"crd":{}}`, false},
	})
}

func TestIntOrStringDefinition(t *testing.T) {
	// As the Kubernetes OpenAPI v3 documents spell it.
	defs := map[string]string{
		IntOrStringName: `{"description":"IntOrString ...","format":"int-or-string","oneOf":[{"type":"integer"},{"type":"string"}]}`,
		"Port":          `{"type":"object","required":["port"],"properties":{"targetPort":{"allOf":[{"$ref":"#/components/schemas/` + IntOrStringName + `"}],"default":{}},"port":{"type":"integer","format":"int32"}}}`,
	}
	sch := compile(t, defs, "Port", false)
	check(t, sch, []tcase{
		{`{"port":80,"targetPort":8080}`, true},
		{`{"port":80,"targetPort":"http"}`, true},
		{`{"port":80,"targetPort":null}`, true},
		{`{"port":80,"targetPort":2147483648}`, false}, // intstr holds an int32
		{`{"port":80,"targetPort":{"x":1}}`, false},
		{`{"port":null}`, false}, // required
		{`{"port":2147483647}`, true},
		{`{"port":2147483648}`, false},
		{`{"port":-2147483649}`, false},
	})
}

func TestQuantity(t *testing.T) {
	defs := map[string]string{
		QuantityName: `{"description":"Quantity ...","oneOf":[{"type":"string"},{"type":"number"}]}`,
		"Res":        `{"type":"object","properties":{"limits":{"type":"object","additionalProperties":{"$ref":"#/components/schemas/` + QuantityName + `"}}}}`,
	}
	sch := compile(t, defs, "Res", true)
	check(t, sch, []tcase{
		{`{"limits":{"cpu":"500m","memory":"1Gi"}}`, true},
		{`{"limits":{"cpu":1,"memory":1073741824}}`, true},
		{`{"limits":{"cpu":0.5}}`, true},
		{`{"limits":{"cpu":"1e3","memory":"2E"}}`, true},
		{`{"limits":{"cpu":[1]}}`, false},
		{`{"limits":{"cpu":{"v":1}}}`, false},
		{`{"limits":{"cpu":true}}`, false},
		{`{"limits":{"cpu":"1 core"}}`, false},
		{`{"limits":{"memory":"1GB"}}`, false},
		{`{"limits":{"memory":""}}`, false},
	})
}

// The quantity pattern agrees with resource.ParseQuantity (as
// Quantity.UnmarshalJSON calls it, after strings.TrimSpace).
func TestQuantityPatternMatchesParseQuantity(t *testing.T) {
	re := regexp.MustCompile(QuantityPattern)
	inputs := []string{
		"0", "1", "-1", "+1", "1.5", ".5", "5.", "1.", ".", "+", "-", "", " ", " 1 ", "\t2Gi\n",
		"100m", "1n", "1u", "1k", "1K", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei", "1M", "1G", "1T", "1P", "1E",
		"1e3", "1E3", "1e-3", "1e+3", "1.5e3", "1e", "1E+", "1ee3", "1e3.5", "1Gi5", "Ki", "m", "e3",
		"1GB", "1gi", "1 Gi", "1.5.5", "abc", "1/2", "0x10", "1_000", "--1", "+-1", "1m1", "١",
		"12345678901234567890123", "0.000000001", "1.0001m", "00010", "-.5Mi", "+.Ki",
	}
	for _, in := range inputs {
		_, err := resource.ParseQuantity(strings.TrimSpace(in))
		if got, want := re.MatchString(in), err == nil; got != want {
			t.Errorf("%q: pattern matches=%v, ParseQuantity ok=%v (%v)", in, got, want, err)
		}
	}
}

func TestPreserveUnknownFields(t *testing.T) {
	sch := compile(t, map[string]string{
		"Obj": `{"type":"object","properties":{
			"spec":{"type":"object","properties":{"known":{"type":"string"}},"x-kubernetes-preserve-unknown-fields":true},
			"raw":{"x-kubernetes-preserve-unknown-fields":true},
			"rawObj":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
			"closed":{"type":"object","properties":{"a":{"type":"string"}}}}}`,
	}, "Obj", true) // strict: closed everywhere it is not preserved
	check(t, sch, []tcase{
		{`{"spec":{"known":"x","anything":{"deep":[1,2]}}}`, true},
		{`{"spec":{"known":1}}`, false}, // listed fields are still checked
		{`{"raw":[1,"x",{"y":null}]}`, true},
		{`{"raw":"s"}`, true},
		{`{"rawObj":{"whatever":true}}`, true},
		{`{"rawObj":"s"}`, false},
		{`{"closed":{"a":"x"}}`, true},
		{`{"closed":{"b":"x"}}`, false},
		{`{"unknownTop":1}`, false},
	})
}

func TestEmbeddedResource(t *testing.T) {
	defs := map[string]string{
		"Obj": `{"type":"object","properties":{
			"template":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{"spec":{"type":"object","properties":{"n":{"type":"integer"}}}}},
			"any":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}}}`,
	}
	for _, strict := range []bool{false, true} {
		sch := compile(t, defs, "Obj", strict)
		check(t, sch, []tcase{
			{`{"template":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"spec":{"n":1}}}`, true},
			{`{"template":{"apiVersion":"v1","kind":"ConfigMap"}}`, true}, // metadata is optional
			{`{"template":{"apiVersion":"v1","kind":"ConfigMap","metadata":null}}`, true},
			{`{"template":{"kind":"ConfigMap"}}`, false},
			{`{"template":{"apiVersion":"v1"}}`, false},
			{`{"template":{"apiVersion":"","kind":"ConfigMap"}}`, false},
			{`{"template":{"apiVersion":"v1","kind":7}}`, false},
			{`{"template":"x"}`, false},
			{`{"any":{"apiVersion":"v1","kind":"Pod","spec":{"containers":[]}}}`, true},
			{`{"any":{"spec":{}}}`, false},
		})
	}
	strict := compile(t, defs, "Obj", true)
	check(t, strict, []tcase{
		{`{"template":{"apiVersion":"v1","kind":"ConfigMap","extra":1}}`, false},
	})
}

func TestNullable(t *testing.T) {
	defs := map[string]string{
		"Meta": `{"type":"object","properties":{"name":{"type":"string"},"creationTimestamp":{"$ref":"#/components/schemas/Time"}}}`,
		"Time": `{"type":"string","format":"date-time"}`,
		"Obj": `{"type":"object","required":["req","reqNullable","meta"],"properties":{
			"req":{"type":"string"},
			"reqNullable":{"type":"string","nullable":true},
			"opt":{"type":"string","enum":["a","b"]},
			"meta":{"allOf":[{"$ref":"#/components/schemas/Meta"}],"default":{}},
			"optMeta":{"allOf":[{"$ref":"#/components/schemas/Meta"}],"default":{}},
			"items":{"type":"array","items":{"type":"string"}},
			"nullableItems":{"type":"array","items":{"type":"string","nullable":true}}}}`,
	}
	sch := compile(t, defs, "Obj", true)
	base := `"req":"x","reqNullable":null,"meta":{}`
	check(t, sch, []tcase{
		{`{` + base + `}`, true},
		{`{` + base + `,"opt":null}`, true},
		{`{` + base + `,"opt":"c"}`, false},
		{`{` + base + `,"optMeta":null}`, true},
		{`{` + base + `,"optMeta":{"name":null,"creationTimestamp":null}}`, true},
		{`{"req":"x","reqNullable":null,"meta":{"creationTimestamp":null}}`, true},
		{`{"req":"x","reqNullable":null,"meta":{"creationTimestamp":"2024-01-02T03:04:05Z"}}`, true},
		{`{"req":"x","reqNullable":null,"meta":{"creationTimestamp":"yesterday"}}`, false},
		{`{"req":null,"reqNullable":null,"meta":{}}`, false},
		{`{"req":"x","reqNullable":null,"meta":null}`, false},
		{`{` + base + `,"items":null}`, true},
		{`{` + base + `,"items":[null]}`, false},
		{`{` + base + `,"nullableItems":[null,"a"]}`, true},
	})
}

func TestIntegerFormats(t *testing.T) {
	sch := compile(t, map[string]string{
		"Obj": `{"type":"object","properties":{
			"i32":{"type":"integer","format":"int32"},
			"i64":{"type":"integer","format":"int64"},
			"tight":{"type":"integer","format":"int32","minimum":0,"maximum":10},
			"excl":{"type":"integer","minimum":0,"exclusiveMinimum":true},
			"d":{"type":"number","format":"double"}}}`,
	}, "Obj", false)
	check(t, sch, []tcase{
		{`{"i32":2147483647,"i64":9223372036854775807}`, true},
		{`{"i32":-2147483648,"i64":-9223372036854775808}`, true},
		{`{"i32":2147483648}`, false},
		{`{"i32":-2147483649}`, false},
		{`{"i64":9223372036854775808}`, false},
		{`{"i32":"1"}`, false},
		{`{"i32":1.5}`, false},
		{`{"tight":10}`, true},
		{`{"tight":11}`, false},
		{`{"excl":0}`, false},
		{`{"excl":1}`, true},
		{`{"d":1.5}`, true},
	})
}

func TestByteFormat(t *testing.T) {
	sch := compile(t, map[string]string{
		"Secret": `{"type":"object","properties":{"data":{"type":"object","additionalProperties":{"type":"string","format":"byte"}}}}`,
	}, "Secret", false)
	check(t, sch, []tcase{
		{`{"data":{"a":"aGVsbG8=","b":"","c":"aGVsbG8gd29ybGQ=\n","d":"YW\nJj"}}`, true},
		{`{"data":{"a":"hello world"}}`, false},
		{`{"data":{"a":"aGVsbG8"}}`, false}, // unpadded: StdEncoding rejects it
		{`{"data":{"a":"aGVsbG8=="}}`, false},
		{`{"data":{"a":"aGV sbG8="}}`, false},
		{`{"data":{"a":"aGVs_G8="}}`, false}, // URL alphabet
		{`{"data":{"a":5}}`, false},
	})
}

// The base64 pattern accepts exactly what encoding/json accepts for a
// []byte field.
func TestBase64PatternMatchesEncodingJSON(t *testing.T) {
	re := regexp.MustCompile(Base64Pattern)
	inputs := []string{
		"", "=", "==", "a", "ab", "abc", "abcd", "ab==", "abc=", "a===", "abcd=", "abcd==", "ab=c",
		"ab\n==", "ab=\n=", "\nabcd\n", "ab\r\ncd", "abcd\nab==\n", "ab cd", "ab\tcd", "ab-_",
		"aGVsbG8gd29ybGQ=", "aGVsbG8gd29ybGQ", "YQ==", "YQ=", "YWI=", "/+/+", "====",
	}
	for _, in := range inputs {
		var b []byte
		j, _ := json.Marshal(in)
		err := json.Unmarshal(j, &b)
		if got, want := re.MatchString(in), err == nil; got != want {
			t.Errorf("%q: pattern matches=%v, encoding/json ok=%v (%v)", in, got, want, err)
		}
		if err == nil {
			if _, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(in)); err != nil {
				t.Errorf("%q: %v", in, err)
			}
		}
	}
}

func TestAllOfRefWrapperAndRefs(t *testing.T) {
	var tr Translator
	got, err := tr.Schema(parse(t, `{"type":"object","required":["spec"],"description":"d","properties":{
		"spec":{"allOf":[{"$ref":"#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}],"default":{},"description":"Spec"},
		"status":{"allOf":[{"$ref":"#/components/schemas/io.k8s.api.apps.v1.DeploymentStatus"}],"default":{}}},
		"x-kubernetes-group-version-kind":[{"group":"apps","kind":"Deployment","version":"v1"}]}`).(map[string]any))
	if err != nil {
		t.Fatal(err)
	}
	want := parse(t, `{"type":"object","required":["spec"],"properties":{
		"spec":{"$ref":"#/$defs/io.k8s.api.apps.v1.DeploymentSpec"},
		"status":{"if":{"type":"null"},"else":{"$ref":"#/$defs/io.k8s.api.apps.v1.DeploymentStatus"}}}}`)
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Errorf("got %s\nwant %s", js(got), js(want))
	}
	if _, err := tr.Schema(parse(t, `{"$ref":"#/definitions/X"}`).(map[string]any)); err == nil {
		t.Error("a reference outside #/components/schemas/ was accepted")
	}
}

func TestDescriptionsDropped(t *testing.T) {
	var tr Translator
	got, err := tr.Schema(parse(t, `{"type":"object","description":"x","properties":{"a":{"type":"string","description":"y","default":"z",
		"x-kubernetes-list-type":"atomic","x-kubernetes-patch-strategy":"merge"}}}`).(map[string]any))
	if err != nil {
		t.Fatal(err)
	}
	if s := js(got); strings.Contains(s, "description") || strings.Contains(s, "default") || strings.Contains(s, "x-kubernetes") {
		t.Errorf("annotations kept: %s", s)
	}
}

func TestClose(t *testing.T) {
	in := parse(t, `{"type":"object","properties":{
		"m":{"type":"object","additionalProperties":{"type":"object","properties":{"x":{"type":"string"}}}},
		"open":{"type":"object","properties":{"y":{}},"additionalProperties":true},
		"free":{"type":"object"},
		"n":{"if":{"type":"null"},"else":{"type":"object","properties":{"z":{}}}}}}`)
	before := js(in)
	got := Close(in)
	want := parse(t, `{"type":"object","additionalProperties":false,"properties":{
		"m":{"type":"object","additionalProperties":{"type":"object","properties":{"x":{"type":"string"}},"additionalProperties":false}},
		"open":{"type":"object","properties":{"y":{}},"additionalProperties":true},
		"free":{"type":"object"},
		"n":{"if":{"type":"null"},"else":{"type":"object","properties":{"z":{}},"additionalProperties":false}}}}`)
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Errorf("got %s\nwant %s", js(got), js(want))
	}
	if js(in) != before {
		t.Error("Close modified its input")
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// normalize round-trips through JSON so that numbers and types compare.
func normalize(v any) any {
	d := json.NewDecoder(strings.NewReader(js(v)))
	d.UseNumber()
	var out any
	d.Decode(&out)
	return out
}

func TestTime(t *testing.T) {
	defs := map[string]string{
		TimeName:      `{"type":"string","format":"date-time"}`,
		MicroTimeName: `{"type":"string","format":"date-time"}`,
		"Obj":         `{"type":"object","properties":{"t":{"$ref":"#/components/schemas/` + TimeName + `"},"m":{"$ref":"#/components/schemas/` + MicroTimeName + `"}}}`,
	}
	sch := compile(t, defs, "Obj", true)
	inputs := []string{
		"2024-01-02T03:04:05Z", "2024-01-02t03:04:05z", "2024-01-02T03:04:05.123456789+01:00",
		"2024-01-02T03:04:05", "2024-01-02 03:04:05Z", "2024-02-30T03:04:05Z", "2024-02-29T03:04:05Z",
		"2024-01-02T24:00:00Z", "2016-12-31T23:59:60Z", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05,5Z",
		"2024-01-02T03:04:05.123456Z", "2024-01-02T03:04:05.123Z", "2024-01-02T03:04:05,123456-07:00",
		"2024-01-02T03:04:05+01:00:00", "+2024-01-02T03:04:05Z", "2024-1-02T03:04:05Z", "yesterday", "",
		"2024-13-02T03:04:05Z", "2024-01-02T03:04:05+24:00", "2024-01-02T03:04:05-23:59",
	}
	for _, in := range inputs {
		for _, c := range []struct{ field, layout string }{
			{"t", time.RFC3339},
			{"m", "2006-01-02T15:04:05.000000Z07:00"}, // metav1.RFC3339Micro
		} {
			_, err := time.Parse(c.layout, in)
			j, _ := json.Marshal(map[string]string{c.field: in})
			got := sch.Validate(parse(t, string(j))) == nil
			if want := err == nil; got != want {
				t.Errorf("%s %q: schema valid=%v, time.Parse ok=%v (%v)", c.field, in, got, want, err)
			}
			// The pattern alone (what a validator that does not assert
			// formats checks) never rejects a time the API server takes.
			pat := TimePattern
			if c.field == "m" {
				pat = MicroTimePattern
			}
			if err == nil && !regexp.MustCompile(pat).MatchString(in) {
				t.Errorf("%s %q: pattern rejects a valid time", c.field, in)
			}
		}
	}
	check(t, sch, []tcase{{`{"t":null,"m":null}`, true}, {`{"t":5}`, false}})
}
