package cli

import (
	"fmt"
)

func warnf(f *Factory, format string, args ...any) {
	fmt.Fprintf(f.IO.ErrOut, "envctl: warning: "+format+"\n", args...)
}
