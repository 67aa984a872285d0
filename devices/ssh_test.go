package devices_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
)

// smallRSASigner is an ssh host key signer for an RSA key under 1024 bits, which crypto/rsa
// neither generates nor signs with (since Go 1.24): the key is built from two primes and
// PKCS #1 v1.5 signatures are computed with math/big, so the fake box can present it while
// the client side keeps Go's default refusal.
type smallRSASigner struct {
	k   *rsa.PrivateKey
	pub ssh.PublicKey
}

func newSmallRSASigner(t *testing.T, bits int) *smallRSASigner {
	t.Helper()
	e := big.NewInt(65537)
	for {
		p, err := rand.Prime(rand.Reader, bits/2)
		if err != nil {
			t.Fatal(err)
		}
		q, err := rand.Prime(rand.Reader, bits-bits/2)
		if err != nil {
			t.Fatal(err)
		}
		n := new(big.Int).Mul(p, q)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, big.NewInt(1)), new(big.Int).Sub(q, big.NewInt(1)))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil || n.BitLen() != bits || p.Cmp(q) == 0 {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
		pub, err := ssh.NewPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return &smallRSASigner{k: k, pub: pub}
	}
}

func (s *smallRSASigner) PublicKey() ssh.PublicKey { return s.pub }

func (s *smallRSASigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	return s.SignWithAlgorithm(r, data, ssh.KeyAlgoRSA)
}

// DigestInfo prefixes of RFC 8017 section 9.2.
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

func (s *smallRSASigner) SignWithAlgorithm(_ io.Reader, data []byte, algo string) (*ssh.Signature, error) {
	var h crypto.Hash
	var digest []byte
	switch algo {
	case ssh.KeyAlgoRSA:
		d := sha1.Sum(data)
		h, digest = crypto.SHA1, d[:]
	case ssh.KeyAlgoRSASHA256:
		d := sha256.Sum256(data)
		h, digest = crypto.SHA256, d[:]
	case ssh.KeyAlgoRSASHA512:
		d := sha512.Sum512(data)
		h, digest = crypto.SHA512, d[:]
	default:
		return nil, fmt.Errorf("algorithm %s", algo)
	}
	k := s.k.Size()
	t := append(append([]byte{}, digestInfo[h]...), digest...)
	if len(t)+11 > k {
		return nil, fmt.Errorf("%d-byte key too short for %s", k, algo)
	}
	em := make([]byte, k)
	em[1] = 1
	for i := 2; i < k-len(t)-1; i++ {
		em[i] = 0xff
	}
	copy(em[k-len(t):], t)
	sig := new(big.Int).Exp(new(big.Int).SetBytes(em), s.k.D, s.k.N).FillBytes(make([]byte, k))
	return &ssh.Signature{Format: algo, Blob: sig}, nil
}

// An old 5510 presents a 768-bit RSA host key: the dial fails with ErrRSAKeyTooSmall naming
// the Go setting, before a packet is sent when the small key is the pinned one, and after the
// handshake when the box presents it unpinned; with GODEBUG=rsa1024min=0 the same box works,
// which proves the setting named is the one that allows it.
func TestSmallRSAHostKey(t *testing.T) {
	signer := newSmallRSASigner(t, 768)
	r := newRig(t, func(cfg *fakeasa.Config) { cfg.HostKey = signer })
	_, err := devices.DialASA(context.Background(), r.target, nil)
	if !errors.Is(err, devices.ErrRSAKeyTooSmall) || !strings.Contains(err.Error(), "GODEBUG=rsa1024min=0") ||
		!strings.Contains(err.Error(), "768 bits") {
		t.Fatalf("DialASA with a pinned 768-bit key = %v; want ErrRSAKeyTooSmall naming GODEBUG=rsa1024min=0 and the size", err)
	}
	t.Logf("pinned: %v", err)
	if n := len(r.srv.Log()); n != 0 {
		t.Errorf("the device saw %d commands", n)
	}

	// Pinned under another entry (a stale file): the box's signature check fails first.
	r2 := newRig(t, func(cfg *fakeasa.Config) { cfg.HostKey = signer })
	r2.target.KnownHostsFile = newRig(t, nil).target.KnownHostsFile // pins an ed25519 key for another port
	if _, err := devices.DialASA(context.Background(), r2.target, nil); !errors.Is(err, devices.ErrRSAKeyTooSmall) || !strings.Contains(err.Error(), "GODEBUG=rsa1024min=0") {
		t.Errorf("DialASA to an unpinned small key = %v; want ErrRSAKeyTooSmall naming GODEBUG=rsa1024min=0", err)
	}

	t.Setenv("GODEBUG", "rsa1024min=0")
	a, err := devices.DialASA(context.Background(), r.target, nil)
	if err != nil {
		t.Fatalf("DialASA with GODEBUG=rsa1024min=0 = %v", err)
	}
	if _, err := a.Show(context.Background(), "show version"); err != nil {
		t.Error(err)
	}
	_ = a.Close()
}

// The box stops answering in the middle of a push (no replies, keepalives swallowed): with an
// operation timeout of a minute, the keepalives end the session within a few of their
// intervals, the push fails with ErrKeepalive and the partial change is rolled back over a new
// session.
func TestKeepalivesEndAHungPush(t *testing.T) {
	r := newRig(t, func(cfg *fakeasa.Config) { cfg.Faults = fakeasa.Faults{HangAfter: 2} })
	r.target.Timeout = time.Minute
	r.target.KeepaliveInterval, r.target.KeepaliveMax = 50*time.Millisecond, 3
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var l devices.Locker
	rep, err := devices.PushASA(ctx, &l, r.target, devices.Plan{Steps: blockSteps(t)}, nil)
	took := time.Since(start)
	t.Logf("after %s: %v", took.Round(time.Millisecond), err)
	if !errors.Is(err, devices.ErrConnection) || !errors.Is(err, devices.ErrKeepalive) {
		t.Fatalf("PushASA error = %v; want ErrConnection and ErrKeepalive", err)
	}
	if took >= 20*time.Second {
		t.Errorf("the push took %s: the keepalives did not end it", took)
	}
	if !rep.RolledBack || len(rep.Applied) != 2 {
		t.Errorf("rolled back %v, applied %d; want true, 2", rep.RolledBack, len(rep.Applied))
	}
	if diff := cmp.Diff(r.start, r.srv.Running()); diff != "" {
		t.Errorf("config after the hang and rollback (-want +got):\n%s", diff)
	}
	if !strings.Contains(rep.Transcript, "--- reconnected for rollback\n") {
		t.Errorf("transcript lacks the rollback session:\n%s", rep.Transcript)
	}
}

// A box that answers keepalives (even with a refusal, as the fake and many ASAs do) keeps
// a quiet session open across many intervals.
func TestKeepalivesKeepAnAnsweringSession(t *testing.T) {
	r := newRig(t, nil)
	r.target.KeepaliveInterval, r.target.KeepaliveMax = 20*time.Millisecond, 2
	a := r.dial(t)
	// Slow replies: each command waits longer than all the keepalives allowed to go unanswered.
	r.srv.SetFaults(fakeasa.Faults{ReplyDelay: 150 * time.Millisecond})
	for i := 0; i < 2; i++ {
		if _, err := a.Show(context.Background(), "show version"); err != nil {
			t.Fatalf("show version %d: %v", i, err)
		}
	}
}
