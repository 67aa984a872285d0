// Package remediate turns findings into ASA changes that a person reviews,
// approves and pushes: proposals, dry-run diffs against the device's running
// configuration, an approval state machine with an append-only audit log,
// pushes with verify and rollback through a small Pusher interface, expiry of
// blocks, and feedback on whether an applied block works.
//
// # From findings to proposals
//
// Only typed addresses from Finding.Subject are used; user names, titles and
// raw lines never reach a device. The mapping (Propose):
//
//	port_scan, unusual_ports        block the external address (Subject.Peer)
//	volume_spike, significant_terms block the external peer of an internal host (exfiltration-like);
//	                                an external term without a host is advisory only
//	segment_violation, san_crossing quarantine the internal host when the finding is critical
//	san_crossing                    fix SAN routing (asaconfig PlanSANFix) with the host/2921 advisory
//	dns_unapproved, printer_egress,
//	new_vpn_source                  advisory only (nothing is sent to a device)
//	silent_host                     none (no firewall change helps a silent host)
//
// A block goes into the device's managed object-group, referenced by one deny
// ACE on the outside ACL after the management permits; with use_shun, the
// address is also shunned for shun_duration. A target that is protected (the
// policy's list, management networks, approved resolvers, device addresses,
// and with a running config what asaconfig.Config.SelfProtected derives) or
// broader than the policy allows is refused: the proposal is recorded as
// rejected with the reason. An open or applied proposal of the same kind and
// target absorbs new findings instead of being duplicated; a rejected one is
// not proposed again for the same findings.
//
// # Manual blocks
//
// Block is a person's block of an address or network (firebreak block): a block proposal with
// Origin manual, the same protections (and the site's own networks refused), no budget, and
// an effect judged on synthetic flows (manualFlows) since it has none of its own. Unblock is
// a removal proposal of the applied block of exactly that target.
//
// # States
//
//	proposed ──approve──▶ approved ──push ok──▶ applied ──removal applied──▶ reverted | expired
//	    │                  │   ▲ │                        (revert, or expiry)
//	    │                  │   │ └──push failed──▶ failed ──approve──▶ approved
//	    └──reject──▶ rejected ◀─┴─────────────reject──────────┘
//
// approved → approved is a fresh approval (new fingerprint). rejected,
// reverted and expired are final. Every transition is written in the same
// store transaction as the proposal record, with who (the OS user), when and
// a comment, to the append-only log namespace "audit".
//
// # Approval and push
//
// Approve computes the dry run against a running configuration (from the
// device, or a saved file) and stores the typed change list, the rendered
// lines and the asaconfig fingerprint of the touched scope. Push holds the
// device lock, re-reads the device, refuses with ErrStale (state unchanged) if
// the fingerprint differs, pushes the approved changes through the Pusher,
// verifies by fingerprinting the read-back configuration against the model
// with the changes applied, and saves with write memory. On failure the
// devices layer rolls back and the proposal becomes failed with the error;
// the redacted transcript is kept with the proposal either way.
//
// Removing an applied change (revert, expiry) is itself a proposal of kind
// removal, planned fresh against the device when approved; when it is
// applied, the original becomes reverted or expired in the same transaction.
package remediate
