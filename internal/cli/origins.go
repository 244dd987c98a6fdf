package cli

import (
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/validate"
)

// validateOrigins converts what overlay.Origins returns to the types of
// package validate, which takes origins through a callback so that the
// checker never imports the renderer.
func validateOrigins(m map[overlay.ObjectID]overlay.Origin, err error) (map[validate.Object]validate.Origin, error) {
	if err != nil {
		return nil, err
	}
	out := make(map[validate.Object]validate.Origin, len(m))
	for id, o := range m {
		out[validate.Object(id)] = validate.Origin{Source: validate.Source{File: o.File, Line: o.Line}, Doc: o.Doc}
	}
	return out, nil
}
