package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/envctl/envctl/internal/secrets"
	"github.com/spf13/cobra"
)

// NewCmdSecrets returns `envctl secrets`: managing the SOPS-encrypted
// secret sources of the environments.
func NewCmdSecrets(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Encrypt, edit, set, rotate and check the SOPS-encrypted secret sources of environments",
		Long: `Secret sources (a secretGenerator's env files and files, Secret manifests)
may be SOPS files encrypted with age. envctl decrypts them in memory as it
renders; these commands write them, with the recipients the creation rules of
.sops.yaml give for each path, and check that every environment's sources are
encrypted for the right recipients.`,
		Args: exactUsage(0),
	}
	cmd.AddCommand(newCmdSecretsEncrypt(f), newCmdSecretsEdit(f), newCmdSecretsSet(f), newCmdSecretsRotate(f), newCmdSecretsCheck(f))
	return cmd
}

func newCmdSecretsEncrypt(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "encrypt FILE...",
		Short: "Encrypt plaintext files in place for the recipients .sops.yaml gives them",
		Long: `Encrypt each FILE in place, as sops -e -i would: the creation rule of the
nearest .sops.yaml whose path_regex matches the file names its age recipients.
The format is the file's (.env dotenv, .yaml/.yml YAML, .json JSON, anything
else binary). The file is replaced atomically and keeps its mode.

A Kubernetes Secret manifest (apiVersion v1, kind Secret) whose rule sets no
encrypted_regex or unencrypted_suffix has only its data and stringData
encrypted (encrypted_regex ^(data|stringData)$, recorded in the file, as
Flux's guides configure sops): its apiVersion, kind and name stay readable,
so reviews and renders without keys (--no-decrypt) can place it.`,
		Example: `  envctl secrets encrypt environments/prod/secrets/db.env`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				dataOnly, err := secrets.EncryptFile(a)
				if err != nil {
					return err
				}
				if dataOnly {
					fmt.Fprintf(f.IO.ErrOut, "encrypted %s: its data and stringData (a Secret manifest: apiVersion, kind and metadata stay readable; an encrypted_regex in .sops.yaml chooses otherwise)\n", a)
					continue
				}
				fmt.Fprintf(f.IO.ErrOut, "encrypted %s\n", a)
			}
			return nil
		},
	}
}

func newCmdSecretsRotate(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate ENV...",
		Short: "Re-encrypt every SOPS file of an environment with a fresh data key",
		Long: `Re-encrypt every SOPS file under each environment's directory with a fresh
data key, for the recipients .sops.yaml names for it now (after adding or
removing a recipient). The plaintext does not change, so neither do the
rendered Secrets' names: no workload restarts.`,
		Example: `  envctl secrets rotate prod`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.Repo()
			if err != nil {
				return err
			}
			k, err := loadKeys(f)
			if err != nil {
				return err
			}
			for _, name := range args {
				env, ok := r.Lookup(name)
				if !ok {
					return usageErrorf("unknown environment %q", name)
				}
				files, err := sopsFiles(env.Path)
				if err != nil {
					return err
				}
				for _, file := range files {
					if err := secrets.RotateFile(file, k); err != nil {
						return err
					}
					fmt.Fprintf(f.IO.ErrOut, "rotated %s\n", relTo(r.Root, file))
				}
			}
			return nil
		},
	}
}

// sopsFiles lists the SOPS files under dir.
func sopsFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if secrets.IsEncrypted(p, b) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func relTo(root, p string) string {
	if rel, err := filepath.Rel(root, p); err == nil {
		return filepath.ToSlash(rel)
	}
	return p
}
