package deploy

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/envctl/envctl/internal/sshsig"
)

// Sign adds signer's signature to the plan. signerName is who the
// signer is for people (the principal of the allowed-signers line, when
// known); a second signature by the same key replaces the first.
func (pf *PlanFile) Sign(signer ssh.Signer, signerName string) error {
	armored, err := sshsig.Sign(signer, SignatureNamespace, pf.SigningPayload())
	if err != nil {
		return err
	}
	return pf.addSignature(signer.PublicKey(), signerName, armored)
}

// AddSignature attaches a signature made elsewhere (ssh-keygen -Y sign -n
// envctl-plan of SigningPayload) after checking that it signs this plan.
func (pf *PlanFile) AddSignature(armored []byte, signerName string) error {
	key, err := sshsig.Verify(armored, SignatureNamespace, pf.SigningPayload())
	if err != nil {
		return fmt.Errorf("the signature is not one of plan %s: %w", pf.ID, err)
	}
	return pf.addSignature(key, signerName, armored)
}

func (pf *PlanFile) addSignature(key ssh.PublicKey, signerName string, armored []byte) error {
	fp := ssh.FingerprintSHA256(key)
	sig := PlanSignature{Signer: signerName, Key: fp, Signature: string(armored)}
	for i := range pf.Signatures {
		if pf.Signatures[i].Key == fp {
			pf.Signatures[i] = sig
			return nil
		}
	}
	pf.Signatures = append(pf.Signatures, sig)
	return nil
}

// SignatureError says why a plan's approval does not hold.
type SignatureError struct {
	PlanID string
	Why    []string
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("plan %s is not approved; nothing was applied:\n  %s", e.PlanID, strings.Join(e.Why, "\n  "))
}

// VerifySignatures checks the plan's signatures against the allowed
// signers and returns the principals of the valid ones. Every signature
// must verify (a bad one means the plan or the signature was altered),
// and at least one must come from an allowed signer.
func (pf *PlanFile) VerifySignatures(allowed *sshsig.AllowedSigners, signersFile string, now time.Time) ([]string, error) {
	var why, signers []string
	payload := pf.SigningPayload()
	for i, s := range pf.Signatures {
		label := fmt.Sprintf("signature %d (%s)", i+1, s.Key)
		key, err := sshsig.Verify([]byte(s.Signature), SignatureNamespace, payload)
		if err != nil {
			why = append(why, label+": "+err.Error())
			continue
		}
		principals, err := allowed.Signer(key, SignatureNamespace, now)
		if err != nil {
			why = append(why, fmt.Sprintf("%s: %v (%s)", label, err, signersFile))
			continue
		}
		signers = append(signers, principals[0])
	}
	switch {
	case len(pf.Signatures) == 0:
		why = append(why, fmt.Sprintf("it is not signed; a reviewer listed in %s signs it with envctl approve PLAN --key KEY", signersFile))
	case len(signers) == 0 && len(why) == 0:
		why = append(why, "no signature by an allowed signer")
	}
	if len(why) > 0 {
		return nil, &SignatureError{PlanID: pf.ID, Why: why}
	}
	return signers, nil
}

// ErrEncryptedKey is returned for a passphrase-protected private key.
var ErrEncryptedKey = errors.New("the key is protected by a passphrase: sign with ssh-keygen -Y sign -n " + SignatureNamespace + " (it asks for it, or uses ssh-agent) and attach the signature with envctl approve PLAN --signature FILE")

// ParseSigningKey reads an SSH private key file's content.
func ParseSigningKey(name string, pem []byte) (ssh.Signer, error) {
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		var pp *ssh.PassphraseMissingError
		if errors.As(err, &pp) {
			return nil, fmt.Errorf("%s: %w", name, ErrEncryptedKey)
		}
		return nil, fmt.Errorf("%s: not an SSH private key: %w", name, err)
	}
	return signer, nil
}
