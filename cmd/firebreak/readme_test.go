package main

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/devices/fakeasa"
)

// TestReadmeTourRunsAsWritten runs every firebreak command of the README's tour in-process, in
// order, with a temporary folder for /tmp/clinic. A command the README shows must exit 0.
func TestReadmeTourRunsAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests a 30-day site")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := fencedBlockAfter(t, string(readme), "## A tour")
	dir := t.TempDir()
	t.Chdir(dir)
	ran := 0
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.ReplaceAll(line, "/tmp/clinic", filepath.Join(dir, "clinic"))
		stdin := ""
		if strings.HasPrefix(line, "zcat ") {
			// zcat FILE | firebreak parse ... > out: feed a generated log instead.
			data, err := os.ReadFile(filepath.Join(dir, "clinic", "asa1.log"))
			if err != nil {
				t.Fatal(err)
			}
			stdin = string(data[:min(len(data), 1<<20)])
			line = strings.TrimSpace(line[strings.Index(line, "|")+1:])
		}
		if i := strings.Index(line, " > "); i >= 0 {
			line = line[:i]
		}
		args, err := shellWords(line)
		if err != nil || len(args) == 0 || args[0] != "firebreak" {
			t.Fatalf("README tour line %q: not a firebreak command (%v)", line, err)
		}
		code, _, errOut := runCLI(t, stdin, args[1:]...)
		if code != 0 {
			t.Fatalf("README: %s\nexit %d: %s", line, code, errOut)
		}
		ran++
	}
	if ran < 10 {
		t.Fatalf("ran %d commands of the tour; the block was not found whole", ran)
	}
	runReadmeOperations(t, string(readme), dir)
}

// readmeOpsSections are the README's operations sections: every firebreak command written
// inline in them (`firebreak ...`, or `proposals ...` and the like) runs after the tour.
var readmeOpsSections = []string{
	"## From the demo to your firewall",
	"## Blocks end on the ASA itself; shuns are checked",
}

// runReadmeOperations runs the operations sections' commands in README order against the
// tour's clinic, its ASA played by the fake on 127.0.0.1 and the policy found the packaged way
// ($FIREBREAK_CONFIG standing in for /etc/firebreak/site.yaml). Placeholders (ID, FILE, ...)
// become a real proposal, finding or backup file; commands that need a system (systemctl,
// dpkg, docker, ssh-keyscan) are not firebreak's and are left to packaging/check.sh.
func runReadmeOperations(t *testing.T, readme, dir string) {
	clinic := filepath.Join(dir, "clinic")
	running, err := os.ReadFile(filepath.Join(clinic, "asa1.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	asa, err := fakeasa.New(fakeasa.Config{RunningConfig: string(running), User: "firebreak", Password: "pw-readme", EnableSecret: "en-readme"})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := asa.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { asa.Close() })
	before := asa.Running()
	site, err := demoPolicy(filepath.Join(clinic, "site.yaml"), addr, filepath.Join(clinic, "known_hosts"), asa)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FIREBREAK_CONFIG", site)
	t.Setenv("FIREBREAK_ASA_PASSWORD", "pw-readme")
	t.Setenv("FIREBREAK_ASA_ENABLE", "en-readme")
	writeGzipHead(t, filepath.Join(clinic, "asa1.log"), filepath.Join(dir, "old-asa1.log.gz"), 2000)
	backups := filepath.Join(dir, "backups")
	if err := os.MkdirAll(backups, 0o755); err != nil {
		t.Fatal(err)
	}
	backfillScenario(t, filepath.Join(clinic, "truth.json"))
	propID, findingID := readmeTargets(t)

	groups := map[string]bool{}
	for _, c := range (&app{}).rootCmd().Commands() {
		groups[c.Name()] = true
	}
	var cmds []string
	for _, h := range readmeOpsSections {
		cmds = append(cmds, inlineCommands(t, readme, h, groups)...)
	}
	lastBackup, lastDigest, lastBlock := "", "", ""
	seen := map[string]bool{}
	for _, line := range cmds {
		line = strings.ReplaceAll(line, "/etc/firebreak/site.yaml", site)
		line = strings.ReplaceAll(line, "/var/backups/", backups+"/")
		line = strings.ReplaceAll(line, "$(date +%F)", time.Now().Format("2006-01-02"))
		args, err := shellWords(line)
		if err != nil || len(args) < 2 {
			t.Fatalf("README operations %q: not a command line (%v)", line, err)
		}
		var expanded []string
		for _, a := range args[1:] {
			switch {
			case a == "ID" || a == "[ID]":
				if args[1] == "findings" {
					a = findingID
				} else {
					a = propID
				}
			case lastBlock != "" && proposalIDRE.MatchString(a):
				// The README's example block ID stands for the one block just made.
				a = lastBlock
			case a == "DIGEST":
				if lastDigest == "" {
					t.Fatalf("README: %s comes before any proposals diff showed a digest", line)
				}
				a = lastDigest
			case a == "FILE":
				if lastBackup == "" {
					t.Fatalf("README: %s comes before any db backup", line)
				}
				a = lastBackup
			case strings.Contains(a, "*"):
				m, _ := filepath.Glob(a)
				if len(m) == 0 {
					t.Fatalf("README: %s: %s matches nothing", line, a)
				}
				expanded = append(expanded, m...)
				continue
			}
			expanded = append(expanded, a)
		}
		if len(expanded) >= 3 && expanded[0] == "db" && expanded[1] == "backup" {
			lastBackup = expanded[2]
		}
		code, out, errOut := runCLI(t, "", expanded...)
		if code != 0 {
			t.Fatalf("README operations: %s\nexit %d: %s", line, code, errOut)
		}
		if expanded[0] == "block" {
			m := proposalIDRE.FindString(out)
			if m == "" {
				t.Fatalf("README: %s printed no proposal ID:\n%s", line, out)
			}
			lastBlock = m
		}
		if len(expanded) >= 2 && expanded[0] == "proposals" && expanded[1] == "diff" {
			// What the person saw and approves: the plan digest diff prints.
			if m := digestRE.FindStringSubmatch(out); m != nil {
				lastDigest = m[1]
			}
		}
		seen[strings.Join(expanded[:min(2, len(expanded))], " ")] = true
	}
	// The sections name the day-to-day loop; each of these must have run, against the device
	// where it needs one.
	for _, want := range []string{"policy check", "status", "ingest", "db check", "db backup", "db restore",
		"proposals diff", "proposals approve", "proposals push", "proposals feedback", "proposals audit",
		"proposals expire", "proposals reconcile",
		"findings ack", "findings resolve", "findings reopen", "findings suppress", "findings audit",
		"block 192.0.2.77", "unblock 192.0.2.77", "proposals list"} {
		if !seen[want] {
			t.Errorf("README operations: no %q command ran (%d commands found)", want, len(cmds))
		}
	}
	if asa.Running() == before {
		t.Errorf("README operations: proposals push %s changed nothing on the device", propID)
	}
	t.Logf("README operations: %d commands ran; %s pushed to the fake ASA", len(cmds), propID)
}

// backfillScenario backfills detection over the scenario's days in one process, then
// proposes: the tour detects only the last day, which may hold no block to push.
func backfillScenario(t *testing.T, truthPath string) {
	t.Helper()
	b, err := os.ReadFile(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	var truth struct {
		Start, End time.Time
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	from, to := truth.Start.Format(time.DateOnly), truth.End.Add(-time.Second).Format(time.DateOnly)
	if code, _, errOut := runCLI(t, "", "detect", "--from", from, "--to", to); code != 0 {
		t.Fatalf("detect --from %s --to %s: exit %d: %s", from, to, code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "propose"); code != 0 {
		t.Fatalf("propose: exit %d: %s", code, errOut)
	}
}

var proposalIDRE = regexp.MustCompile(`\bp-\d{4,}\b`)

var digestRE = regexp.MustCompile(`(?i)digest\W+([0-9a-f]{64})`)

// readmeTargets picks the IDs the README's placeholders stand for: a block still waiting for
// approval, or approved offline by the tour (approving again binds the live config), and a
// finding.
func readmeTargets(t *testing.T) (prop, finding string) {
	code, out, errOut := runCLI(t, "", "proposals", "list", "--json")
	if code != 0 {
		t.Fatalf("proposals list: exit %d: %s", code, errOut)
	}
	var ps []struct {
		ID    string `json:"id"`
		Kind  string `json:"kind"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatalf("proposals list --json: %v", err)
	}
	for _, p := range ps {
		if p.Kind == "block" && (p.State == "proposed" || p.State == "approved") {
			prop = p.ID
			break
		}
	}
	code, out, errOut = runCLI(t, "", "findings", "--json")
	if code != 0 {
		t.Fatalf("findings: exit %d: %s", code, errOut)
	}
	var fs []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("findings --json: %v", err)
	}
	if prop == "" || len(fs) == 0 {
		t.Fatalf("the tour left no proposed block (%+v) or no finding (%d)", ps, len(fs))
	}
	return prop, fs[0].ID
}

// inlineCommands returns the firebreak command lines written as inline code in one section:
// spans that start with firebreak or with one of its subcommand groups, fenced blocks skipped.
func inlineCommands(t *testing.T, doc, heading string, groups map[string]bool) []string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	sec := doc[i+len(heading)+2:]
	if j := strings.Index(sec, "\n## "); j >= 0 {
		sec = sec[:j]
	}
	var out []string
	for len(sec) > 0 {
		if strings.HasPrefix(sec, "```") {
			end := strings.Index(sec[3:], "```")
			if end < 0 {
				break
			}
			// A fenced block: its firebreak lines (a; b runs a, then b), not its YAML or
			// the device's commands.
			for _, l := range strings.Split(sec[3:3+end], "\n")[1:] {
				for _, c := range strings.Split(strings.TrimSpace(l), "; ") {
					if w := strings.Fields(c); len(w) >= 2 && w[0] == "firebreak" && groups[w[1]] {
						out = append(out, c)
					}
				}
			}
			sec = sec[3+end+3:]
			continue
		}
		if sec[0] != '`' {
			sec = sec[1:]
			continue
		}
		end := strings.IndexByte(sec[1:], '`')
		if end < 0 {
			break
		}
		span := strings.Join(strings.Fields(sec[1:1+end]), " ")
		sec = sec[1+end+1:]
		words := strings.Fields(span)
		switch {
		case len(words) >= 2 && words[0] == "firebreak" && groups[words[1]]:
			out = append(out, span)
		case len(words) >= 2 && groups[words[0]] && words[0] != "firebreak":
			out = append(out, "firebreak "+span)
		}
	}
	return out
}

// writeGzipHead writes the first n lines of src gzipped to dst: an "old export" to replay.
func writeGzipHead(t *testing.T, src, dst string, n int) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfterN(string(data), "\n", n+1)
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	for _, l := range lines[:min(n, len(lines))] {
		if _, err := zw.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// fencedBlockAfter returns the first ``` block after the heading.
func fencedBlockAfter(t *testing.T, doc, heading string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	rest := doc[i:]
	start := strings.Index(rest, "```")
	if start < 0 {
		t.Fatalf("no code block after %q", heading)
	}
	rest = rest[start+3:]
	rest = rest[strings.Index(rest, "\n")+1:]
	end := strings.Index(rest, "```")
	if end < 0 {
		t.Fatalf("unterminated code block after %q", heading)
	}
	return rest[:end]
}

// shellWords splits a command line the way sh does for the README's simple forms: words,
// double and single quotes, and a trailing # comment.
func shellWords(s string) ([]string, error) {
	var (
		out   []string
		cur   strings.Builder
		quote rune
		in    bool
	)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == '#' && !in:
			return out, nil
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, os.ErrInvalid
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
