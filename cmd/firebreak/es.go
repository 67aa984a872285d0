package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/esout"
	"github.com/firebreak-dev/firebreak/policies"
)

func (a *app) esCmd() *cobra.Command {
	es := &cobra.Command{
		Use:   "es",
		Short: "Prepare the Elasticsearch or OpenSearch cluster of an output",
	}
	var (
		name      string
		kibanaOut string
		asJSON    bool
	)
	setup := &cobra.Command{
		Use:   "setup [--output NAME]",
		Short: "Install templates, the lifecycle policy and the Kibana saved objects for an output",
		Long: `setup asks the output's cluster what it is (GET /: Elasticsearch, or OpenSearch by its
version.distribution) and installs, each as a PUT of the whole object, so that running it again
changes nothing:

  - component templates: the ECS mappings of exactly the fields firebreak writes (events,
    findings, proposals) and settings (compression; the ILM policy on Elasticsearch);
  - one data stream index template per stream of the output (priority 250, above Elastic's
    logs-*-* and integration templates);
  - the lifecycle policy firebreak-<namespace>: roll over daily, delete after the output's
    retention (default the policy's retention.raw): ILM on Elasticsearch, ISM on OpenSearch.

Then the Kibana saved objects (data views, the dashboard "firebreak: site traffic" and its
visualizations, filled with the site's prefixes): imported through Kibana's (or OpenSearch
Dashboards') saved objects API when the output has a kibana_url, else written to
--kibana-out for Stack Management > Saved objects > Import.

Data streams that already exist take the new templates at their next rollover.`,
		Example: `  firebreak es setup
  firebreak es setup --output central --kibana-out /tmp/firebreak.ndjson`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			po, err := pickOutput(cfg, name)
			if err != nil {
				return err
			}
			kib, err := esout.KibanaObjects(cfg, po)
			if err != nil {
				return err
			}
			c, err := esout.NewClient(po, nil)
			if err != nil {
				return err
			}
			opt := esout.SetupOptions{Output: po}
			if po.KibanaURL != "" {
				opt.Kibana = kib
			}
			res, err := esout.Setup(cmd.Context(), c, opt)
			if asJSON {
				return a.esSetupJSON(cfg, po, res, err, kib, kibanaOut)
			}
			if res.Cluster.Version != "" {
				fmt.Fprintf(a.stdout, "output %s: %s %s (cluster %s)\n", po.Name, res.Cluster.Flavour, res.Cluster.Version, res.Cluster.Name)
				if res.Cluster.Flavour != po.Kind {
					fmt.Fprintf(a.stdout, "note: the policy says kind %s; the cluster is %s (setup followed the cluster)\n", po.Kind, res.Cluster.Flavour)
				}
			}
			for _, s := range res.Steps {
				fmt.Fprintf(a.stdout, "  %-4s %s\n       %s\n", s.Method, s.Path, s.What)
			}
			if err != nil {
				return err
			}
			if po.KibanaURL == "" {
				if kibanaOut, err = writeKibana(cfg, po, kib, kibanaOut); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "no kibana_url for output %s: saved objects (%d) written to %s\n"+
					"  import them in Kibana: Stack Management > Saved objects > Import (overwrite)\n",
					po.Name, strings.Count(string(kib), "\n"), kibanaOut)
			}
			return nil
		},
	}
	setup.Flags().StringVar(&name, "output", "", "the output (default the policy's first)")
	setup.Flags().BoolVar(&asJSON, "json", false, "print JSON (cluster, steps, where the saved objects went; error if any)")
	setup.Flags().StringVar(&kibanaOut, "kibana-out", "", "where to write the saved objects when the output has no kibana_url (default <data_dir>/esout/firebreak-NAME-kibana.ndjson)")
	es.AddCommand(setup)
	return es
}

// writeKibana writes the saved objects for an output without kibana_url, to path or the
// output's default file, and returns where.
func writeKibana(cfg *policies.Config, po policies.Output, kib []byte, path string) (string, error) {
	if path == "" {
		path = filepath.Join(cfg.Collector.DataDir, "esout", "firebreak-"+po.Name+"-kibana.ndjson")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, kib, 0o640); err != nil {
		return "", fmt.Errorf("kibana objects: %w", err)
	}
	return path, nil
}

// esSetupJSON prints what es setup found and did as one object; a failure still prints it,
// with error, and exits 1.
func (a *app) esSetupJSON(cfg *policies.Config, po policies.Output, res esout.SetupResult, serr error, kib []byte, kibanaOut string) error {
	type step struct {
		Method string `json:"method"`
		Path   string `json:"path"`
		What   string `json:"what"`
	}
	out := struct {
		Output         string `json:"output"`
		Flavour        string `json:"flavour,omitempty"`
		Version        string `json:"version,omitempty"`
		Cluster        string `json:"cluster,omitempty"`
		Steps          []step `json:"steps"`
		KibanaImported int    `json:"kibana_imported,omitempty"`
		KibanaFile     string `json:"kibana_file,omitempty"`
		KibanaObjects  int    `json:"kibana_objects"`
		Error          string `json:"error,omitempty"`
	}{Output: po.Name, Flavour: res.Cluster.Flavour, Version: res.Cluster.Version, Cluster: res.Cluster.Name,
		Steps: []step{}, KibanaImported: res.Imported, KibanaObjects: strings.Count(string(kib), "\n")}
	for _, s := range res.Steps {
		out.Steps = append(out.Steps, step{s.Method, s.Path, s.What})
	}
	err := serr
	if err == nil && po.KibanaURL == "" {
		out.KibanaFile, err = writeKibana(cfg, po, kib, kibanaOut)
	}
	if err != nil {
		out.Error = err.Error()
	}
	return errors.Join(writeJSON(a.stdout, out), err)
}

// pickOutput is the policy's output of that name, or its first when name is empty.
func pickOutput(cfg *policies.Config, name string) (policies.Output, error) {
	if len(cfg.Outputs) == 0 {
		return policies.Output{}, usageError{fmt.Errorf("the policy has no outputs: (see README \"Keep Kibana\")")}
	}
	if name == "" {
		return cfg.Outputs[0], nil
	}
	var names []string
	for _, o := range cfg.Outputs {
		if o.Name == name {
			return o, nil
		}
		names = append(names, o.Name)
	}
	return policies.Output{}, usageError{fmt.Errorf("--output: no output %q (the policy has %s)", name, strings.Join(names, ", "))}
}
