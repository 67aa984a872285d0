package devices

import (
	"strings"
)

// RedactConfig replaces the secrets an ASA or IOS configuration holds with <redacted>, line
// by line, by the grammar of the commands that carry them rather than by known values: the
// device's own password hashes, keys, pre-shared keys and SNMP communities are not known to
// firebreak. It covers, wherever they appear in a line (a reply, an echo, a command sent):
//
//	enable password X [encrypted|pbkdf2]     enable secret [level N] [0|5|8|9] X
//	username U password [0|7] X ...          username U secret [5|8|9] X
//	passwd X                                 ldap-login-password X
//	key X (aaa-server / tacacs / radius)     tacacs-server|radius-server [host H] key [7] X
//	pre-shared-key X, ikev1 pre-shared-key X, ikev2 local|remote-authentication pre-shared-key X
//	crypto isakmp key [0|6] X address ...    failover key X
//	snmp-server community X, snmp-server host ... community X
//	ntp authentication-key N md5 X           [ip] ospf message-digest-key N md5 [7] X
//	key-string [7] X                         ospf authentication-key X
//
// and whole blocks: the hex of "crypto ca certificate chain" certificates (up to "quit") and
// PEM blocks. Masked values (*****) are redacted like any other. Text that is not a command
// (a remark, a banner) may lose a word after such a keyword: the transcript errs on the side
// of hiding.
func RedactConfig(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	lines := strings.Split(s, "\n")
	inCert, inPEM := false, false
	for i, l := range lines {
		t := strings.TrimSpace(strings.TrimSuffix(l, "\r"))
		switch {
		case inPEM:
			if strings.HasPrefix(t, "-----END ") {
				inPEM = false
			}
			lines[i] = redactedText
			continue
		case strings.HasPrefix(t, "-----BEGIN "):
			inPEM = !strings.HasPrefix(t, "-----END ")
			lines[i] = redactedText
			continue
		case inCert:
			if t == "quit" || !isHexBlock(t) && t != "" {
				inCert = false
				break
			}
			if t != "" {
				lines[i] = indentOf(l) + redactedText
			}
			continue
		}
		f := strings.Fields(t)
		if len(f) >= 2 && f[0] == "certificate" {
			inCert = true
		}
		if len(f) > 0 && isHexBlock(t) && len(t) >= 32 {
			lines[i] = indentOf(l) + redactedText // certificate hex outside a recognised block
			continue
		}
		lines[i] = redactLine(l, f)
	}
	return strings.Join(lines, "\n")
}

// mayHoldSecret is a quick filter: every rule needs one of these words.
func mayHoldSecret(s string) bool {
	for _, w := range []string{"pass", "secret", "key", "community", "certificate", "-----BEGIN", "md5", "snmp-server", "aaa-server"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func indentOf(l string) string { return l[:len(l)-len(strings.TrimLeft(l, " \t"))] }

// isHexBlock reports whether t is one or more words of hex digits only, 8 or more each (a line
// of a certificate as the ASA prints it).
func isHexBlock(t string) bool {
	f := strings.Fields(t)
	if len(f) == 0 {
		return false
	}
	for _, w := range f {
		if len(w) < 8 {
			return false
		}
		for i := 0; i < len(w); i++ {
			c := w[i]
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// keyNotSecret are words after "key" that name a command, not a value.
var keyNotSecret = map[string]bool{
	"chain": true, "generate": true, "zeroize": true, "mypubkey": true, "import": true, "export": true,
	"pair": true, "config-key": true, "exchange": true, "rsa": true, "ecdsa": true, "eddsa": true,
}

// redactLine redacts the secret values of one line whose words are f.
func redactLine(l string, f []string) string {
	var secret []int // indexes into f
	after := func(i int, types ...string) {
		j := i + 1
		if j < len(f) && len(f) > j+1 {
			for _, ty := range types {
				if f[j] == ty {
					j++
					break
				}
			}
		}
		if j < len(f) {
			secret = append(secret, j)
		}
	}
	first := ""
	if len(f) > 0 {
		first = f[0]
	}
	for i := 0; i < len(f); i++ {
		w := f[i]
		switch w {
		case "password", "passwd", "ldap-login-password", "pre-shared-key", "key-string", "authentication-key":
			if w == "authentication-key" && i+2 < len(f) && f[i+2] == "md5" {
				continue // ntp authentication-key N md5 X: the value follows md5
			}
			if w == "password" && i+1 < len(f) && (f[i+1] == "encryption" || f[i+1] == "policy" || f[i+1] == "management") {
				continue
			}
			after(i, "0", "6", "7", "8")
		case "secret":
			j := i
			if j+2 < len(f) && f[j+1] == "level" {
				j += 2
			}
			after(j, "0", "4", "5", "8", "9")
		case "community":
			after(i, "0", "8")
		case "md5":
			if i >= 2 && strings.HasSuffix(f[i-2], "-key") {
				after(i, "0", "7")
			}
		case "key":
			if i+1 < len(f) && keyNotSecret[f[i+1]] {
				continue
			}
			if i == 0 || first == "tacacs-server" || first == "radius-server" || first == "failover" ||
				first == "crypto" && f[i-1] == "isakmp" || first == "aaa-server" {
				after(i, "0", "6", "7")
			}
		case "host":
			// aaa-server TAG [(if)] host ADDR [KEY] [timeout N]: the key is positional.
			if first == "aaa-server" && i+2 < len(f) && f[i+2] != "timeout" && f[i+2] != "key" {
				secret = append(secret, i+2)
			}
		case "version":
			// IOS snmp-server host ADDR version 1|2c COMMUNITY
			if first == "snmp-server" && i+2 < len(f) && (f[i+1] == "1" || f[i+1] == "2c") {
				secret = append(secret, i+2)
			}
		case "auth", "priv":
			// snmp-server user U G v3 [encrypted] auth md5|sha|... X priv des|3des|aes [N] Y
			if first == "snmp-server" {
				j := i + 2
				if j < len(f) && (f[j] == "128" || f[j] == "192" || f[j] == "256") {
					j++
				}
				if j < len(f) {
					secret = append(secret, j)
				}
			}
		}
	}
	if len(secret) == 0 {
		return l
	}
	// Rebuild the line with its indentation; the words' own spacing is not kept.
	for _, j := range secret {
		f[j] = redactedText
	}
	return indentOf(l) + strings.Join(f, " ")
}
