package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit statuses: 0 success, 1 the command failed, 2 it was called wrongly (unknown command or
// flag, wrong arguments, a value outside an enum). Scripts can tell a typo from a failure.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// usageError marks a mistake in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func isUsage(err error) bool {
	_, ok := errors.AsType[usageError](err)
	return ok
}

// markUsage makes every flag and argument error of the tree a usageError, and a root called
// with an unknown subcommand one too.
func markUsage(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Args != nil {
			args := c.Args
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return usageError{err}
				}
				return nil
			}
		} else if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
			// A group command: cobra would print help and exit 0 for "firebreak frob" or
			// "firebreak proposals frob". Without arguments it still prints help.
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, a []string) error {
				if len(a) > 0 {
					return usageError{fmt.Errorf("unknown command %q for %q", a[0], cmd.CommandPath())}
				}
				return cmd.Help()
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// enumValue is a string flag that accepts only the listed values (or empty when allowed), so
// a typo such as --state aplied is an error naming the valid values, not an empty result.
type enumValue struct {
	target  *string
	allowed []string
}

func (e *enumValue) String() string { return *e.target }
func (e *enumValue) Type() string   { return "string" }

func (e *enumValue) Set(s string) error {
	if !slices.Contains(e.allowed, s) {
		return fmt.Errorf("%q is not one of %s", s, strings.Join(e.allowed, ", "))
	}
	*e.target = s
	return nil
}

// enumFlag defines --name on c with the allowed values, listed in its help text.
func enumFlag(c *cobra.Command, target *string, name, def, usage string, allowed ...string) {
	defineEnum(c, c.Flags(), target, name, def, usage, allowed)
}

// enumPersistentFlag is enumFlag for a flag that c's subcommands inherit.
func enumPersistentFlag(c *cobra.Command, target *string, name, def, usage string, allowed ...string) {
	defineEnum(c, c.PersistentFlags(), target, name, def, usage, allowed)
}

func defineEnum(c *cobra.Command, fs *pflag.FlagSet, target *string, name, def, usage string, allowed []string) {
	*target = def
	fs.Var(&enumValue{target: target, allowed: allowed}, name, usage+": "+strings.Join(allowed, ", "))
	_ = c.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return allowed, cobra.ShellCompDirectiveNoFileComp
	})
}
