package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordHasher hashes with argon2id and stores the parameters in the PHC
// string, so they can be raised later without breaking old hashes.
type PasswordHasher struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultHasher follows OWASP's argon2id baseline (m=46 MiB, t=1, p=1): about
// 50 ms per login on this project's 2-core machine (docs/benchmarks.md), which
// bounds memory per concurrent login while staying well above brute-force cost.
var DefaultHasher = &PasswordHasher{Memory: 46 * 1024, Time: 1, Threads: 1}

// Hash returns $argon2id$v=19$m=..,t=..,p=..$salt$hash.
func (h *PasswordHasher) Hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argonKey([]byte(password), salt, h.Time, h.Memory, h.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Memory, h.Time, h.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify checks password against an encoded hash in constant time.
func (h *PasswordHasher) Verify(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("password: unknown hash format")
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, err
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, err
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, err
	}
	got := argonKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// argonSlots bounds how many argon2 runs happen at once. Each run holds its
// whole memory cost (46 MiB by default) and keeps one core busy, so runs beyond
// the core count add memory, not throughput: 16 logins at once peaked at about
// 1.5 GiB of heap without this bound, enough to kill a 512 MB VM
// (docs/benchmarks.md, "Portal"). Extra logins wait their turn instead.
var argonSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

func argonKey(password, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	argonSlots <- struct{}{}
	defer func() { <-argonSlots }()
	return argon2.IDKey(password, salt, t, m, p, n)
}

// dummyHash is verified against when the account does not exist, so a login
// takes the same time whether or not the e-mail is known.
var dummyHash, _ = DefaultHasher.Hash("not a real password")
