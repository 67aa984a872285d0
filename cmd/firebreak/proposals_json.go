package main

import (
	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/remediate"
)

// The --json answers of the proposal commands that change state. Each names the proposal as
// stored after the command; a failure still prints its object (with error) before exit 1.

// pushJSON is what push (and approve with push_on_approve) prints. The device's configurations
// before and after are left out: they hold the box's secrets (hashes, keys) and belong in the
// redacted transcript.
type pushJSON struct {
	Proposal   remediate.Proposal `json:"proposal"`
	Applied    []string           `json:"applied,omitempty"` // lines the device accepted, in order
	Verified   bool               `json:"verified"`
	Saved      bool               `json:"saved"`
	RolledBack bool               `json:"rolled_back"`
	Suspicious []string           `json:"suspicious,omitempty"` // lines answered with an unknown warning
	Warnings   []string           `json:"warnings,omitempty"`
	Error      string             `json:"error,omitempty"`
}

func newPushJSON(res remediate.PushResult, err error) pushJSON {
	out := pushJSON{Proposal: res.Proposal, Verified: res.Report.Verified, Saved: res.Report.Saved,
		RolledBack: res.Report.RolledBack, Warnings: append(append([]string(nil), res.Report.Warnings...), res.Warnings...)}
	for _, s := range res.Report.Applied {
		out.Applied = append(out.Applied, stepLine(s))
	}
	for _, r := range res.Report.Suspicious {
		out.Suspicious = append(out.Suspicious, r.Command.String())
	}
	if err != nil {
		out.Error = err.Error()
	}
	return out
}

// stepLine is a step as typed: its sub-mode header, if any, then the line.
func stepLine(s devices.Step) string {
	if m := s.Mode.String(); m != "" {
		return m + " / " + s.Do.String()
	}
	return s.Do.String()
}

// approveJSON is what approve prints: the dry run it bound and whether the approvals are
// complete (two_person), then the push when the policy pushes on approval.
type approveJSON struct {
	Proposal remediate.Proposal `json:"proposal"`
	DryRun   remediate.DryRun   `json:"dry_run"`
	Complete bool               `json:"complete"`
	Push     *pushJSON          `json:"push,omitempty"`
}

type revertJSON struct {
	Reverted string             `json:"reverted"`
	Removal  remediate.Proposal `json:"removal"`
}

type expireJSON struct {
	Unshunned []string             `json:"unshunned"`
	Removals  []remediate.Proposal `json:"removals"`
	Errors    []string             `json:"errors,omitempty"`
}

type reconcileJSON struct {
	remediate.ReconcileReport
	Drifting []remediate.Proposal `json:"drifting"` // applied proposals with drift, repaired or not
}
