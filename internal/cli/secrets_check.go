package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/report"
	"github.com/envctl/envctl/internal/secrets"
	"github.com/envctl/envctl/internal/validate"
)

func newCmdSecretsCheck(f *Factory) *cobra.Command {
	var all bool
	var output string
	cmd := &cobra.Command{
		Use:   "check [ENV...|--all]",
		Short: "Check that secret sources are encrypted, for the right recipients",
		Long: `Check the secret sources of environments (each secretGenerator's envs and
files, and Secret manifests among the resources, under the environment's
directory), without any key:

  secret-encrypted         every source is a SOPS file, every value encrypted
                           (unless the environment has secrets: {plaintext:
                           allowed} in envctl.yaml);
  secret-recipients        its age recipients are exactly those of the
                           .sops.yaml creation rule for its path;
  secret-shared-recipient  no recipient of an environment with secrets:
                           {production: true} is a recipient of a
                           non-production one, unless listed in
                           secrets.sharedRecipients;
  secret-plaintext-file    no plaintext file lies beside the sources (a
                           decrypted copy left behind).

envctl validate runs the same check when the repository uses SOPS (it has a
.sops.yaml, or secrets settings in envctl.yaml).

Exit codes: 0 no findings, 1 findings, 2 the check could not run.`,
		Example: `  envctl secrets check --all
  envctl secrets check prod -o json`,
		ValidArgsFunction: completeEnvs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := secrets.NewCheckPrinter(output)
			if err != nil {
				return usageErrorf("%w", err)
			}
			envs, err := f.Resolve(args, all)
			if err != nil {
				return err
			}
			rep, err := checkSecrets(f, envs)
			if err != nil {
				return err
			}
			if err := p.Print(f.IO.Out, rep); err != nil {
				return err
			}
			if n := len(rep.Findings); n > 0 {
				return &FindingsError{Summary: report.Plural(n, "secret source finding", "secret source findings")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "check every registered environment")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: "+strings.Join(secrets.CheckFormats(), ", "))
	return cmd
}

// checkSecrets runs secrets.Check on envs, with every environment of
// the repository as the other side of the production rule.
func checkSecrets(f *Factory, envs []repo.Environment) (*secrets.CheckReport, error) {
	r, err := f.Repo()
	if err != nil {
		return nil, err
	}
	req := secrets.CheckRequest{Root: r.Root}
	for _, s := range r.Config.Secrets.SharedRecipients {
		req.Shared = append(req.Shared, strings.TrimSpace(s.Recipient))
	}
	add := func(e repo.Environment) {
		for _, have := range req.Envs {
			if have.Name == e.Name {
				return
			}
		}
		req.Envs = append(req.Envs, secrets.CheckEnv{
			Name:             e.Name,
			Dir:              e.Path,
			Production:       e.Secrets.Production,
			PlaintextAllowed: e.Secrets.Plaintext == repo.PlaintextAllowed,
			Sources:          overlay.SecretSources(f.FS, e.Path),
		})
	}
	for _, e := range r.Environments() {
		add(e)
	}
	for _, e := range envs {
		add(e)
		req.Check = append(req.Check, e.Name)
	}
	return secrets.Check(req)
}

// usesSOPS reports whether validate checks the secret sources: the
// repository has a .sops.yaml at its root or secrets settings in
// envctl.yaml. A repository that never chose SOPS is not told that its
// plaintext sources are plaintext on every validate.
func usesSOPS(r *repo.Repo) bool {
	if _, err := os.Stat(filepath.Join(r.Root, secrets.ConfigName)); err == nil {
		return true
	}
	if len(r.Config.Secrets.SharedRecipients) > 0 {
		return true
	}
	for _, e := range r.Environments() {
		if e.Secrets != (repo.EnvSecrets{}) {
			return true
		}
	}
	return false
}

// addSecretFindings adds secrets check findings to a validate report:
// as problems of the rendered Secret a generator source makes (its data,
// with the source's file and line in the message, since the object's own
// place is the generator), else as invalid results of their own.
func addSecretFindings(rep *validate.Report, chk *secrets.CheckReport, envs []repo.Environment) {
	ns := map[string]string{}
	for _, e := range envs {
		ns[e.Name] = e.Namespace
	}
	if rep.Rules == nil {
		rep.Rules = map[string]string{}
	}
	for _, fd := range chk.Findings {
		rep.Rules[fd.Rule] = secrets.CheckRules[fd.Rule]
		where := fd.File
		if fd.Line > 0 {
			where = fmt.Sprintf("%s:%d", fd.File, fd.Line)
		}
		i := -1
		if fd.Secret != "" {
			i = slices.IndexFunc(rep.Results, func(r validate.Result) bool {
				return r.Env == fd.Env && r.Object.Kind == "Secret" && r.Object.APIVersion == "v1" && manifest.GeneratedName(r.Object.Name, fd.Secret)
			})
		}
		if i >= 0 {
			res := &rep.Results[i]
			res.Problems = append(res.Problems, validate.Problem{Rule: fd.Rule, Path: "/data", Message: where + ": " + fd.Message})
			if res.Status == validate.Valid {
				res.Status = validate.Invalid
			}
			continue
		}
		name := fd.Secret
		if name == "" {
			name = "(" + filepath.Base(fd.File) + ")"
		}
		rep.Results = append(rep.Results, validate.Result{
			Env:      fd.Env,
			Object:   validate.Object{APIVersion: "v1", Kind: "Secret", Namespace: ns[fd.Env], Name: name},
			Status:   validate.Invalid,
			Problems: []validate.Problem{{Rule: fd.Rule, Message: fd.Message, Line: fd.Line}},
			Source:   validate.Source{File: fd.File, Line: fd.Line},
		})
	}
}
