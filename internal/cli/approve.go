package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/envctl/envctl/internal/atomicwrite"
	"github.com/envctl/envctl/internal/deploy"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/sshsig"
)

// ApproveOptions are the inputs of `envctl approve`.
type ApproveOptions struct {
	Factory   *Factory
	Plan      string
	Key       string
	Signature string
	Payload   bool
}

// NewCmdApprove returns `envctl approve`.
func NewCmdApprove(f *Factory, runF func(context.Context, *ApproveOptions) error) *cobra.Command {
	opts := &ApproveOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "approve PLAN (--key KEY | --signature FILE | --payload)",
		Short: "Sign a reviewed plan with an SSH key, for environments whose approval names signers",
		Long: `Sign a plan file (envctl plan ENV -o PLAN) with an SSH key, in place. An
environment with approval: {required: true, signers: FILE} in envctl.yaml is
applied only from a plan that carries a signature by a key of FILE, an
allowed-signers file in ssh-keygen's format ("principal key-type key"). The
release records who planned, who signed and who applied.

The signature is OpenSSH's (PROTOCOL.sshsig, namespace envctl-plan), as git
signs commits: ssh-keygen -Y verify accepts it. It signs the plan's payload,
one line naming the environment, the plan id and the SHA-256 of the whole
plan: --payload prints it, so a key that envctl cannot read (a passphrase,
ssh-agent, a hardware key) signs with
  envctl approve PLAN --payload | ssh-keygen -Y sign -f KEY -n envctl-plan > PLAN.sig
and envctl approve PLAN --signature PLAN.sig attaches it. Signing does not
change the plan's id; a plan edited after it was signed fails both checks.

The plan is printed first: sign what you reviewed.`,
		Example: `  envctl approve prod.plan.json --key ~/.ssh/id_ed25519
  envctl approve prod.plan.json --payload | ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n envctl-plan > sig
  envctl approve prod.plan.json --signature sig`,
		Args: exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Plan = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runApprove(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Key, "key", "", "SSH private key file to sign with (without a passphrase; see --payload)")
	fl.StringVar(&opts.Signature, "signature", "", "attach this signature (ssh-keygen -Y sign -n envctl-plan of --payload's output)")
	fl.BoolVar(&opts.Payload, "payload", false, "print the line a signature signs, and nothing else")
	return cmd
}

func runApprove(_ context.Context, opts *ApproveOptions) error {
	f := opts.Factory
	n := 0
	for _, set := range []bool{opts.Key != "", opts.Signature != "", opts.Payload} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usageErrorf("give one of --key KEY, --signature FILE or --payload")
	}
	pf, err := readPlan(opts.Plan)
	if err != nil {
		return err
	}
	if opts.Payload {
		_, err := f.IO.Out.Write(pf.SigningPayload())
		return err
	}
	allowed, signersFile := planSigners(f, pf.Environment)
	var key ssh.PublicKey
	if opts.Key != "" {
		signer, err := loadSigningKey("--key", opts.Key)
		if err != nil {
			return err
		}
		key = signer.PublicKey()
		name, err := signerName(allowed, signersFile, key)
		if err != nil {
			return err
		}
		if err := deploy.WritePlanFile(f.IO.Out, pf); err != nil {
			return err
		}
		if err := pf.Sign(signer, name); err != nil {
			return err
		}
	} else {
		armored, err := os.ReadFile(opts.Signature)
		if err != nil {
			return fmt.Errorf("--signature: %w", err)
		}
		if key, err = sshsig.Verify(armored, deploy.SignatureNamespace, pf.SigningPayload()); err != nil {
			return fmt.Errorf("%s: not a signature of plan %s: %w", opts.Signature, pf.ID, err)
		}
		name, err := signerName(allowed, signersFile, key)
		if err != nil {
			return err
		}
		if err := deploy.WritePlanFile(f.IO.Out, pf); err != nil {
			return err
		}
		if err := pf.AddSignature(armored, name); err != nil {
			return err
		}
	}
	data, err := deploy.EncodePlanFile(pf)
	if err != nil {
		return err
	}
	if err := atomicwrite.File(opts.Plan, data); err != nil {
		return err
	}
	who := ssh.FingerprintSHA256(key)
	if s := pf.Signatures[len(pf.Signatures)-1].Signer; s != "" {
		who = s + " (" + who + ")"
	}
	fmt.Fprintf(f.IO.Out, "%s: plan %s signed by %s\n", pf.Environment, pf.ID, who)
	return nil
}

// loadSigningKey reads the SSH private key a flag names.
func loadSigningKey(flag, path string) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return deploy.ParseSigningKey(path, pem)
}

func readPlan(path string) (*deploy.PlanFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return deploy.ReadPlanFile(path, data)
}

// planSigners returns the allowed signers of env, when the repository
// names them (nil otherwise: the plan can still be signed, and checked
// where it is applied).
func planSigners(f *Factory, env string) (*sshsig.AllowedSigners, string) {
	envs, err := f.Resolve([]string{env}, false)
	if err != nil || len(envs) != 1 || envs[0].Approval.Signers == "" {
		return nil, ""
	}
	as, err := loadSigners(f, envs[0])
	if err != nil {
		return nil, ""
	}
	return as, envs[0].Approval.Signers
}

func loadSigners(f *Factory, e repo.Environment) (*sshsig.AllowedSigners, error) {
	data, err := f.FS.ReadFile(e.Approval.Signers)
	if err != nil {
		return nil, fmt.Errorf("%s: approval.signers: %w", e.Name, err)
	}
	return sshsig.ParseAllowedSigners(e.Approval.Signers, data)
}

// signerName is the principal key signs as, or "" when the repository
// lists no signers. A key that is not listed is refused now rather than
// when the plan is applied.
func signerName(allowed *sshsig.AllowedSigners, file string, key ssh.PublicKey) (string, error) {
	if allowed == nil {
		return "", nil
	}
	p, err := allowed.Signer(key, deploy.SignatureNamespace, time.Now())
	if err != nil {
		return "", fmt.Errorf("%w (%s)", err, file)
	}
	return p[0], nil
}

// verifyApproval checks the signatures a plan needs for env, and returns
// who signed.
func verifyApproval(f *Factory, e repo.Environment, pf *deploy.PlanFile) ([]string, error) {
	if e.Approval.Signers == "" {
		return nil, nil
	}
	as, err := loadSigners(f, e)
	if err != nil {
		return nil, err
	}
	return pf.VerifySignatures(as, e.Approval.Signers, time.Now())
}
