package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/envctl/envctl/internal/yamlguard"
)

// sizeFlag is a byte count given as 256MiB, 1GiB, 512KiB, 300M or a plain
// number of bytes: the limit of --max-input-size.
type sizeFlag int64

func (s *sizeFlag) String() string { return yamlguard.FormatSize(int64(*s)) }
func (s *sizeFlag) Type() string   { return "size" }

func (s *sizeFlag) Set(v string) error {
	t := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return fmt.Errorf("%q is not a size (e.g. 256MiB, 1GiB, 1048576)", v)
	}
	*s = sizeFlag(n * mult)
	return nil
}

// registerMaxInputSize adds --max-input-size to a command that reads
// files a user names (-f, --live).
func registerMaxInputSize(fl *pflag.FlagSet, s *sizeFlag, what string) {
	*s = sizeFlag(yamlguard.DefaultMaxBytes)
	fl.Var(s, "max-input-size", "refuse "+what+" larger than this (e.g. 512MiB, 1GiB)")
}
