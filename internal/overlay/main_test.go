package overlay

import (
	"os"
	"testing"

	"github.com/envctl/envctl/internal/testtools"
)

// TestMain gives this process the example's age keys: its staging and
// prod secrets are SOPS files.
func TestMain(m *testing.M) {
	testtools.UseExampleAgeKeys("../..")
	os.Exit(m.Run())
}
