package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/secrets"
)

func newCmdSecretsEdit(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "edit FILE",
		Short: "Edit a SOPS file in $EDITOR; re-encrypt only what changed",
		Long: `Decrypt FILE into a private temporary file (0600, in a 0700 directory of its
own), open it in $VISUAL, else $EDITOR, else vi (run by sh, so EDITOR="code -w"
works), and re-encrypt what changed with the file's own data key: unchanged
values keep their ciphertext and the recipients stay as they are, so the diff
is the changed lines and the MAC. The temporary file is removed when the
editor exits, fails, or envctl is stopped with SIGTERM or SIGHUP (SIGINT is
left to the editor, as git leaves it).

An editor that exits non-zero changes nothing (exit 2). Content that does not
parse is offered for editing again on a terminal; declined, or without a
terminal, nothing changes (exit 2). Content the editor left as it was leaves
the file byte for byte as it was.`,
		Example: `  envctl secrets edit environments/prod/secrets/db.env
  EDITOR="code -w" envctl secrets edit environments/staging/secrets/api-keys.env`,
		Args: exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := loadKeys(f)
			if err != nil {
				return err
			}
			editor := "vi"
			for _, v := range []string{"VISUAL", "EDITOR"} {
				if e := strings.TrimSpace(os.Getenv(v)); e != "" {
					editor = e
					break
				}
			}
			in, tty := f.IO.In.(*os.File)
			tty = tty && term.IsTerminal(int(in.Fd()))
			changed, err := secrets.EditFile(args[0], secrets.EditOptions{Editor: editor, Keys: k, In: f.IO.In, Out: f.IO.Out, ErrOut: f.IO.ErrOut, Reopen: tty})
			if err != nil {
				return err
			}
			if changed {
				fmt.Fprintf(f.IO.ErrOut, "re-encrypted what changed in %s\n", args[0])
			} else {
				fmt.Fprintf(f.IO.ErrOut, "%s: nothing changed; the file is as it was\n", args[0])
			}
			return nil
		},
	}
}

// maxSecretValue bounds what secrets set reads from stdin: a Secret
// holds at most 1 MiB in all.
const maxSecretValue = 1 << 20

func newCmdSecretsSet(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "set ENV NAME KEY",
		Short: "Set one key of a secretGenerator's SOPS source to a value read from stdin",
		Long: `Set KEY of secretGenerator NAME in environment ENV to the value read from
stdin, never from the command line (where shell history and ps would keep it).
On a terminal the value is read without echo.

The file is the generator's SOPS-encrypted source that holds KEY: a files:
source whose key is KEY (stdin becomes the whole file, byte for byte, as
kubectl create secret --from-file takes it), else the envs: file that has
KEY, else its only envs: file. For an envs: file one trailing newline is
removed, so that echo works; a value of several lines is refused (an env file
holds one line per key). Only that value is encrypted again, with the file's
data key; the rest of the file stays as it was.`,
		Example: `  printf %s "$NEW_PASSWORD" | envctl secrets set prod db-credentials POSTGRES_PASSWORD
  envctl secrets set prod tls tls.key < new.key`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 3 {
				// The extra word is not quoted: it may be the value.
				return usageErrorf("secrets set takes ENV NAME KEY and reads the value from stdin; a value on the command line stays in shell history and shows in ps: pipe it instead (printf %%s \"$VALUE\" | envctl secrets set %s %s %s)", args[0], args[1], args[2])
			}
			if err := exactUsage(3)(cmd, args); err != nil {
				return err
			}
			if strings.ContainsAny(args[2], "=\n") {
				// KEY=VALUE given as the key: refused without quoting it.
				return usageErrorf("KEY holds '=' or a newline: secrets set takes the value from stdin, not as KEY=VALUE on the command line (printf %%s \"$VALUE\" | envctl secrets set %s %s KEY)", args[0], args[1])
			}
			return nil
		},
		ValidArgsFunction: completeEnvs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.Repo()
			if err != nil {
				return err
			}
			env, ok := r.Lookup(args[0])
			if !ok {
				return &repo.UnknownEnvironmentError{Name: args[0], Known: r.Names(), Repo: r.Root}
			}
			name, key := args[1], args[2]
			target, src, err := setTarget(f, r, env, name, key)
			if err != nil {
				return err
			}
			value, err := readSecretValue(f, key)
			if err != nil {
				return err
			}
			if src.Field == "envs" {
				value = strings.TrimSuffix(value, "\n")
				if strings.Contains(value, "\n") {
					return usageErrorf("the value read from stdin has several lines; %s is an env file, one line per key (put a multi-line value in a files: source)", relTo(r.Root, target.Path))
				}
			}
			k, err := loadKeys(f)
			if err != nil {
				return err
			}
			var out []byte
			var changed bool
			if src.Field == "files" {
				out, changed, err = target.Update([]byte(value), k)
			} else {
				out, changed, err = target.Set(key, value, k)
			}
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(f.IO.ErrOut, "%s: %s already has this value; the file is as it was\n", relTo(r.Root, target.Path), key)
				return nil
			}
			if err := writeInPlace(target.Path, out); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "set %s in %s\n", key, relTo(r.Root, target.Path))
			return nil
		},
	}
}

// setTarget finds the SOPS file secrets set writes: among the sources of
// generator name in env, the one that holds key.
func setTarget(f *Factory, r *repo.Repo, env repo.Environment, name, key string) (*secrets.File, secrets.Source, error) {
	all := overlay.SecretSources(f.FS, env.Path)
	var gens []string
	var sources []secrets.Source
	for _, s := range all {
		if s.Generator != "" && !slices.Contains(gens, s.Generator) {
			gens = append(gens, s.Generator)
		}
		if s.Generator == name {
			sources = append(sources, s)
		}
	}
	if len(sources) == 0 {
		known := "none"
		if len(gens) > 0 {
			known = strings.Join(gens, ", ")
		}
		return nil, secrets.Source{}, usageErrorf("environment %s has no secretGenerator %q with envs or files (its generators with file sources: %s)", env.Name, name, known)
	}
	type cand struct {
		file *secrets.File
		src  secrets.Source
	}
	var enc []cand
	var plain []string
	for _, s := range sources {
		b, err := os.ReadFile(s.File)
		if err != nil {
			return nil, s, err
		}
		if !secrets.IsEncrypted(s.File, b) {
			plain = append(plain, relTo(r.Root, s.File))
			continue
		}
		file, err := secrets.Parse(s.File, b)
		if err != nil {
			return nil, s, err
		}
		enc = append(enc, cand{file, s})
	}
	if len(enc) == 0 {
		return nil, secrets.Source{}, fmt.Errorf("secretGenerator %q of %s has no SOPS-encrypted source (its sources: %s); encrypt one first: envctl secrets encrypt FILE", name, env.Name, strings.Join(plain, ", "))
	}
	names := func(cs []cand) string {
		var l []string
		for _, c := range cs {
			l = append(l, relTo(r.Root, c.src.File))
		}
		return strings.Join(l, ", ")
	}
	var files, envs, holding []cand
	for _, c := range enc {
		switch {
		case c.src.Field == "files" && c.src.Key == key:
			files = append(files, c)
		case c.src.Field == "envs":
			envs = append(envs, c)
			if c.file.HasKey(key) {
				holding = append(holding, c)
			}
		}
	}
	switch {
	case len(files) == 1 && len(holding) == 0:
		return files[0].file, files[0].src, nil
	case len(files)+len(holding) > 1:
		return nil, secrets.Source{}, fmt.Errorf("key %s of secretGenerator %q in %s is in more than one SOPS source: %s; edit the one you mean with envctl secrets edit", key, name, env.Name, names(append(files, holding...)))
	case len(holding) == 1:
		return holding[0].file, holding[0].src, nil
	case len(envs) == 1:
		return envs[0].file, envs[0].src, nil
	case len(envs) == 0:
		return nil, secrets.Source{}, fmt.Errorf("secretGenerator %q of %s has no SOPS-encrypted envs file and no files source with key %s (its SOPS sources: %s)", name, env.Name, key, names(enc))
	}
	return nil, secrets.Source{}, fmt.Errorf("secretGenerator %q of %s has no key %s and several SOPS envs files to add it to: %s; add it with envctl secrets edit FILE", name, env.Name, key, names(envs))
}

// readSecretValue reads the value from stdin: without echo on a
// terminal, else all of it (up to maxSecretValue).
func readSecretValue(f *Factory, key string) (string, error) {
	if in, ok := f.IO.In.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		fmt.Fprintf(f.IO.ErrOut, "value of %s (not echoed): ", key)
		b, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(f.IO.ErrOut)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	b, err := io.ReadAll(io.LimitReader(f.IO.In, maxSecretValue+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxSecretValue {
		return "", errors.New("the value read from stdin is over 1 MiB, more than a Secret holds")
	}
	return string(b), nil
}

// writeInPlace replaces a SOPS file atomically, keeping its mode.
func writeInPlace(path string, b []byte) error {
	return secrets.WriteFile(path, b)
}

// loadKeys finds the age keys for a command that decrypts, and prints
// their warnings (a key file others can read, as ssh warns).
func loadKeys(f *Factory) (*secrets.Keyring, error) {
	k, err := secrets.LoadKeys()
	if err != nil {
		return nil, err
	}
	for _, w := range k.Warnings {
		warnf(f, "%s", w)
	}
	return k, nil
}
