package drift

import (
	"encoding/json"
	"io"
)

// JSONAPIVersion versions the JSON schema below.
const JSONAPIVersion = "envctl.dev/v1alpha1"

// jsonPrinter writes one JSON document (2-space indent, keys in the order
// below, map keys of values sorted, no HTML escaping):
//
//	{
//	  "apiVersion": "envctl.dev/v1alpha1",
//	  "kind": "DriftReport",
//	  "drift": true,                      // any environment has drift
//	  "environments": [{
//	    "environment": "staging",         // omitted when unnamed
//	    "summary": {"objects": 19, "inSync": 14, "changed": 3, "missing": 1,
//	                "orphaned": 1, "renamed": 1, "rolling": 2},
//	    "objects": [{                     // sorted by namespace, kind, group, name
//	      "id": {"group": "apps", "version": "v1", "kind": "Deployment",
//	             "namespace": "shop", "name": "api"},  // namespace omitted when cluster-scoped
//	      "status": "in-sync" | "changed" | "missing" | "orphaned",
//	      "secret": true,                 // v1 Secret; omitted otherwise
//	      "renamed": {"base": "app-config", "from": "app-config-5f7k2dgh6m",
//	                  "to": "app-config-9m4c8hbk2t"},   // optional
//	      "rolls": [<id>, ...],           // optional: workloads that roll
//	      "supersededBy": "app-config-9m4c8hbk2t",      // optional
//	      "changes": [{                   // optional
//	        "path": "spec.template.spec.containers[name=api].image",
//	        "pointer": "/spec/template/spec/containers/0/image",
//	        "kind": "changed" | "added" | "removed" | "extra",
//	        "old": <JSON value>,          // live; omitted for added
//	        "new": <JSON value>,          // repository; omitted for removed and extra
//	        "textDiff": "@@ -1,3 +1,3 @@\n...",        // optional
//	        "managers": ["kubectl-edit"], // optional, extra only
//	        "followsRename": <id>         // optional
//	      }]
//	    }]
//	  }]
//	}
//
// Secret values are the string "(secret)". Numbers keep their type
// (integers print without a fraction).
type jsonPrinter struct{}

type jsonDocument struct {
	APIVersion   string    `json:"apiVersion"`
	Kind         string    `json:"kind"`
	Drift        bool      `json:"drift"`
	Environments []*Report `json:"environments"`
}

func (jsonPrinter) Print(w io.Writer, reports []*Report) error {
	doc := jsonDocument{APIVersion: JSONAPIVersion, Kind: "DriftReport", Environments: reports}
	if doc.Environments == nil {
		doc.Environments = []*Report{}
	}
	for _, r := range reports {
		if r.HasDrift() {
			doc.Drift = true
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
