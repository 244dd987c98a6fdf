// Package secrets reads and writes SOPS files encrypted with age, in the
// file format of sops v3 (YAML, JSON, dotenv and binary), without the sops
// library: that library links every key service sops supports (AWS, GCP
// and Azure KMS, Vault, PGP), which would more than double envctl's binary
// and build time for key types envctl does not use (docs/status.md has the
// figures). Files the sops CLI writes decrypt here, and files written here
// decrypt with the sops CLI; both are tested against the real CLI.
//
// Writing a file that exists (edit, set) re-encrypts only what changed,
// so that its diff in review is the lines a person changed; Check judges
// the secret sources of environments without any key.
//
// Plaintext only ever exists in memory: Decrypt returns it to its caller,
// and nothing in this package writes it anywhere (edit's temporary file is
// the one exception, and it is 0600 and removed on exit and on signal).
// Errors name the file and the key, never a value.
package secrets
