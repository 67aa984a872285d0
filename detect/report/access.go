package report

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/firebreak-dev/firebreak/policies"
)

// RequireAuth wraps h so that every request must carry the bearer token
// ("Authorization: Bearer <token>") or the basic-auth user and password of c; any other
// request gets 401 with a Basic challenge and never reaches h. Secrets are compared in
// constant time (over their SHA-256, so their lengths do not show either). With no
// credential in c every request is refused: a missing secret never opens the door.
func RequireAuth(h http.Handler, c policies.HTTPCredentials) http.Handler {
	sum := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
	token, user, pass := sum(c.Token), sum(c.User), sum(c.Password)
	hasToken, hasBasic := c.Token != "", c.User != "" && c.Password != ""
	eq := func(a, b [32]byte) bool { return subtle.ConstantTimeCompare(a[:], b[:]) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := false
		if a := r.Header.Get("Authorization"); hasToken && len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			ok = eq(sum(strings.TrimSpace(a[7:])), token)
		} else if u, p, isBasic := r.BasicAuth(); hasBasic && isBasic {
			// Both compared, so a wrong user costs the same as a wrong password.
			okUser, okPass := eq(sum(u), user), eq(sum(p), pass)
			ok = okUser && okPass
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="firebreak", charset="UTF-8"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
