package k8sschema

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/envctl/envctl/internal/k8sschema/internal/bundle"
)

//go:embed data/*.json.gz
var dataFS embed.FS

// versions lists the embedded minor versions ("1.31", ...), sorted.
var versions = sync.OnceValue(func() []string {
	entries, err := dataFS.ReadDir("data")
	if err != nil {
		panic(err)
	}
	var vs []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json.gz")
		if !ok {
			continue
		}
		vs = append(vs, strings.TrimPrefix(name, "v"))
	}
	slices.SortFunc(vs, CompareVersions)
	return vs
})

// Versions returns the Kubernetes minor versions that have schemas, such
// as "1.31", oldest first.
func Versions() []string {
	return slices.Clone(versions())
}

// Newest returns the newest Kubernetes minor version that has schemas.
func Newest() string {
	vs := versions()
	return vs[len(vs)-1]
}

// CompareVersions orders minor versions: "1.9" before "1.10".
func CompareVersions(a, b string) int {
	ap, bp := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(ap) && i < len(bp); i++ {
		ai, _ := strconv.Atoi(ap[i])
		bi, _ := strconv.Atoi(bp[i])
		if ai != bi {
			return ai - bi
		}
	}
	return len(ap) - len(bp)
}

// ParseVersion reads a Kubernetes version as users write it: "1.36",
// "v1.36" or a patch release "1.36.3". It returns the minor version that
// has schemas ("1.36") and, for a patch release, the patch that is
// ignored ("3"; schemas are per minor version, so callers may say once
// that it is). Anything else, and a minor without schemas, is an error
// that lists the available versions.
func ParseVersion(v string) (minor, ignoredPatch string, err error) {
	s := strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return "", "", badVersion(v)
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 32); err != nil {
			return "", "", badVersion(v)
		}
	}
	m := parts[0] + "." + parts[1]
	if !slices.Contains(versions(), m) {
		return "", "", unknownVersion(v)
	}
	if len(parts) == 3 {
		ignoredPatch = parts[2]
	}
	return m, ignoredPatch, nil
}

// normalizeVersion maps "1.34", "v1.34" and "1.34.2" to "1.34".
func normalizeVersion(v string) (string, error) {
	m, _, err := ParseVersion(v)
	return m, err
}

func badVersion(v string) error {
	return fmt.Errorf("Kubernetes version %q is not MAJOR.MINOR or MAJOR.MINOR.PATCH (available: %s)", v, strings.Join(versions(), ", "))
}

func unknownVersion(v string) error {
	return fmt.Errorf("no schemas for Kubernetes version %q (available: %s)", v, strings.Join(versions(), ", "))
}

// decoded holds each version's bundle, decoded once per process.
var decoded sync.Map // "1.34" → func() (*bundle.Bundle, error)

func loadBundle(version string) (*bundle.Bundle, error) {
	f, _ := decoded.LoadOrStore(version, sync.OnceValues(func() (*bundle.Bundle, error) {
		data, err := dataFS.ReadFile("data/v" + version + ".json.gz")
		if err != nil {
			return nil, err
		}
		b, err := bundle.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("Kubernetes %s: %w", version, err)
		}
		return b, nil
	}))
	return f.(func() (*bundle.Bundle, error))()
}
