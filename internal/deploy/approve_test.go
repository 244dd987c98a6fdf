package deploy

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/sshsig"
)

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allowedOf(t *testing.T, lines ...string) *sshsig.AllowedSigners {
	t.Helper()
	as, err := sshsig.ParseAllowedSigners("allowed_signers", []byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func line(who string, s ssh.Signer) string {
	return who + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
}

func samplePlan() *PlanFile {
	pf := &PlanFile{APIVersion: PlanAPIVersion, Kind: PlanKind, Environment: "prod", Namespace: "shop",
		Created: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC), RenderDigest: strings.Repeat("a", 64),
		Steps: []PinnedStep{{ID: drift.ObjectID{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}, Action: ActionChange}}}
	pf.ID = pf.Seal()
	return pf
}

func TestPlanSignatures(t *testing.T) {
	alice, bob, mallory := newSigner(t), newSigner(t), newSigner(t)
	allowed := allowedOf(t, line("alice@example.com", alice), line("bob@example.com", bob))
	now := time.Now()

	pf := samplePlan()
	id := pf.ID
	if err := pf.Sign(alice, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := pf.Sign(bob, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if pf.Seal() != id {
		t.Fatal("signing changed the plan's id")
	}
	data, err := EncodePlanFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadPlanFile("p.json", data)
	if err != nil {
		t.Fatal(err)
	}
	signers, err := read.VerifySignatures(allowed, "allowed_signers", now)
	if err != nil || strings.Join(signers, ",") != "alice@example.com,bob@example.com" {
		t.Fatalf("VerifySignatures = %v, %v", signers, err)
	}

	// Edited and resealed (an id that matches again): the signatures no
	// longer do.
	edited := *read
	edited.Steps = []PinnedStep{{ID: read.Steps[0].ID, Action: ActionPrune}}
	edited.ID = edited.Seal()
	if _, err := edited.VerifySignatures(allowed, "allowed_signers", now); err == nil || !strings.Contains(err.Error(), "does not match the message") {
		t.Errorf("edited plan: %v", err)
	}

	// A key that is not listed: its signature is valid but approves nothing.
	other := samplePlan()
	if err := other.Sign(mallory, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := other.VerifySignatures(allowed, "allowed_signers", now); err == nil || !strings.Contains(err.Error(), "is not in the allowed signers (allowed_signers)") {
		t.Errorf("unlisted signer: %v", err)
	}
	// Unsigned.
	if _, err := samplePlan().VerifySignatures(allowed, "allowed_signers", now); err == nil || !strings.Contains(err.Error(), "it is not signed") {
		t.Errorf("unsigned: %v", err)
	}
	// Signing twice with one key keeps one signature.
	if err := pf.Sign(alice, "alice@example.com"); err != nil || len(pf.Signatures) != 2 {
		t.Errorf("re-signing: %v, %d signatures", err, len(pf.Signatures))
	}
	// A signature made elsewhere of this plan's payload is attached; one
	// of another plan is not.
	armored, err := sshsig.Sign(bob, SignatureNamespace, other.SigningPayload())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.AddSignature(armored, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	third := samplePlan()
	third.Namespace = "elsewhere"
	third.ID = third.Seal()
	if err := third.AddSignature(armored, ""); err == nil {
		t.Error("a signature of another plan was attached")
	}
}
