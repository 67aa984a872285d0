package devices

import (
	"strings"
	"sync"
)

const redactedText = "<redacted>"

// TranscriptEntry is one exchange with the device.
type TranscriptEntry struct {
	Input  string // the line sent; secrets appear as <redacted>
	Output string // the device reply without echo and prompt
	Err    string // why the exchange failed, if it did
}

// Transcript records every command and response of a session with the
// login password, enable secret and key passphrase replaced by <redacted>
// wherever they would appear, and the configuration's own secrets (password
// hashes, keys, pre-shared keys, SNMP communities, certificates) redacted by
// pattern (RedactConfig). Safe for concurrent use.
type Transcript struct {
	mu      sync.Mutex
	entries []TranscriptEntry
	secrets []string
}

func newTranscript(secrets ...string) *Transcript {
	t := &Transcript{}
	for _, s := range secrets {
		if s != "" {
			t.secrets = append(t.secrets, s)
		}
	}
	return t
}

// redact hides the session's own credentials (known values) and every secret the
// configuration holds (by pattern, RedactConfig), in what was sent and what came back.
func (t *Transcript) redact(s string) string {
	for _, sec := range t.secrets {
		s = strings.ReplaceAll(s, sec, redactedText)
	}
	return RedactConfig(s)
}

func (t *Transcript) add(input, output string, err error) {
	e := TranscriptEntry{Input: t.redact(input), Output: t.redact(output)}
	if err != nil {
		e.Err = t.redact(err.Error())
	}
	t.mu.Lock()
	t.entries = append(t.entries, e)
	t.mu.Unlock()
}

// Entries returns a copy of the entries so far.
func (t *Transcript) Entries() []TranscriptEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]TranscriptEntry(nil), t.entries...)
}

// String renders the transcript as "> input" lines followed by the reply
// and "! error" for failures.
func (t *Transcript) String() string {
	var b strings.Builder
	for _, e := range t.Entries() {
		b.WriteString("> ")
		b.WriteString(e.Input)
		b.WriteByte('\n')
		if e.Output != "" {
			b.WriteString(e.Output)
			b.WriteByte('\n')
		}
		if e.Err != "" {
			b.WriteString("! ")
			b.WriteString(e.Err)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
