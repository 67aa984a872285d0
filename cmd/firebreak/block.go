package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// parseTarget reads an address (a host prefix) or a network with no host bits, strictly.
func parseTarget(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" || a.Is4In6() {
			return netip.Prefix{}, usageError{fmt.Errorf("address %q: give it without a zone, an IPv4 address in its IPv4 form", s)}
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, usageError{fmt.Errorf("%q is not an IP address or CIDR network", s)}
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, usageError{fmt.Errorf("network %q: give an IPv4 network in its IPv4 form", s)}
	}
	if p != p.Masked() {
		return netip.Prefix{}, usageError{fmt.Errorf("network %q has host bits set (the network is %s)", s, p.Masked())}
	}
	return p, nil
}

func (a *app) blockCmd() *cobra.Command {
	var forS, reason, runningFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "block ADDR",
		Short: "Propose blocking an external address or network by hand",
		Long: `block proposes a block of ADDR (an address, or a CIDR network no broader than the policy's
remediation.max_prefix_len_v4/_v6) on the ASA, proposed by you. It is a proposal like a
detector's: it waits for approval (proposals approve, then push) and gets the same checks.
A protected target is refused with the reason and recorded as a rejected proposal: the
policy's protected list, management networks, approved resolvers and the devices' own
addresses, known services, mobile carriers, VPN users' sources, special-purpose ranges
(RFC 6890) and the site's own networks. The block denies ADDR as source on the outside ACL
and as destination on the inside interfaces; with no traffic of its own, its effect is
judged on synthetic flows (ADDR to a site host, a host of each inside network to ADDR, all
tcp/443) by the data-path model at every diff and approval: they must end dropped and no
allowed, management or DNS flow may change. With --running FILE it is judged at once.`,
		Example: `  firebreak block 192.0.2.77 --for 24h --reason "phishing landing page, ticket 4471"
  firebreak block 198.51.100.0/28 --reason "scanner range"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTarget(args[0])
			if err != nil {
				return err
			}
			if strings.TrimSpace(reason) == "" {
				return usageError{errors.New("--reason is required: say why (it is kept in the audit log)")}
			}
			var dur time.Duration
			if forS != "" {
				var d policies.Duration
				if err := d.UnmarshalText([]byte(forS)); err != nil || d <= 0 {
					return usageError{fmt.Errorf("--for %q: give a positive duration such as 12h, 7d", forS)}
				}
				dur = time.Duration(d)
			}
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				var run *asaconfig.Config
				if runningFile != "" {
					b, err := os.ReadFile(a.path(runningFile))
					if err != nil {
						return err
					}
					if run, err = asaconfig.Parse(b); err != nil {
						return err
					}
				}
				p, created, err := m.Block(ctx, a.user, remediate.ManualBlock{Target: t, Duration: dur, Reason: reason}, run)
				if err != nil && !errors.Is(err, remediate.ErrRefused) {
					return err
				}
				if asJSON {
					if jerr := writeJSON(a.stdout, struct {
						remediate.Proposal
						Created bool `json:"created"`
					}{p, created}); jerr != nil {
						return jerr
					}
					return err
				}
				if err != nil {
					return err // refused: the error names the class
				}
				if !created {
					fmt.Fprintf(a.stdout, "%s already blocks %s (%s); nothing new proposed\n", p.ID, p.Target, p.State)
					return nil
				}
				fmt.Fprintf(a.stdout, "%s: block %s on %s for %s, proposed by %s\nnext: firebreak proposals diff %s, then proposals approve %s and proposals push %s\n",
					p.ID, p.Target, p.Device, p.Duration, a.user, p.ID, p.ID, p.ID)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&forS, "for", "", "how long the block lasts (12h, 7d; default remediation.block_duration)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	cmd.Flags().StringVar(&runningFile, "running", "", "saved running config of the ASA: judge the effect now")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the proposal as JSON")
	return cmd
}

func (a *app) unblockCmd() *cobra.Command {
	var comment string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "unblock ADDR",
		Short: "Propose removing the applied block of an address or network",
		Long: `unblock proposes the removal of the applied block of ADDR (exactly that address or
network, whether a person or a detector asked for it). The removal waits for approval
(proposals approve, then push) like any other; when it is applied, the block is reverted.
It fails when no block of ADDR is applied, naming wider blocks that cover it.`,
		Example:           `  firebreak unblock 192.0.2.77 --comment "false positive, ticket 4471"`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeBlockedTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTarget(args[0])
			if err != nil {
				return err
			}
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				r, err := m.Unblock(ctx, a.user, t, comment)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, r)
				}
				fmt.Fprintf(a.stdout, "%s: removal of %s (block %s on %s) [%s]\nnext: firebreak proposals approve %s, then proposals push %s\n",
					r.ID, r.RemovalOf, r.Target, r.Device, r.State, r.ID, r.ID)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&comment, "comment", "", "why (kept in the audit log)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the removal proposal as JSON")
	return cmd
}

// completeBlockedTargets completes unblock's argument with the targets of applied blocks (the
// address alone for a host), each with its proposal and reason. Like the ID completions it
// never forwards to the daemon: while the daemon holds the store it completes nothing.
func (a *app) completeBlockedTargets(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cfg, st, ok := a.completionStore(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer st.Close()
	ps, _ := a.manager(cfg, st).List(cmd.Context())
	var out []string
	for _, p := range ps {
		if p.Kind != remediate.KindBlock || p.State != remediate.StateApplied {
			continue
		}
		t := p.Target.String()
		if p.Target.IsSingleIP() {
			t = p.Target.Addr().String()
		}
		out = append(out, t+"\t"+display.Text(p.ID+" "+p.Reason))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
