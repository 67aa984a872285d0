package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Files are the paths WriteDir wrote, and the ground truth it wrote to Truth.
type Files struct {
	ASA     string // asa1.log
	Routers string // routers.log
	Truth   string // truth.json
	Policy  string // site.yaml
	Config  string // asa1.cfg: asa1's running configuration (see Site.ASAConfig)
	Result  Truth  // what truth.json holds
}

// File names WriteDir uses inside its directory.
const (
	FileASA     = "asa1.log"
	FileRouters = "routers.log"
	FileTruth   = "truth.json"
	FilePolicy  = "site.yaml"
	FileConfig  = "asa1.cfg"
)

// WriteDir generates a run into dir (created if missing): the ASA and router logs, the ground
// truth as indented JSON, the site policy and asa1's running configuration. Existing files of those names are replaced. On
// error the files written so far are left in place.
func WriteDir(ctx context.Context, cfg Config, dir string) (_ Files, err error) {
	harbor := cfg.Profile == ProfileHarbor
	if !harbor {
		cfg = cfg.withDefaults()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("create output dir: %w", err)
	}
	f := Files{
		ASA:     filepath.Join(dir, FileASA),
		Routers: filepath.Join(dir, FileRouters),
		Truth:   filepath.Join(dir, FileTruth),
		Policy:  filepath.Join(dir, FilePolicy),
		Config:  filepath.Join(dir, FileConfig),
	}
	var pol, asaCfg []byte
	if harbor {
		pol, asaCfg = harborPolicy(), harborASAConfig()
	} else {
		if pol, err = cfg.Site.Policy(); err != nil {
			return Files{}, err
		}
		asaCfg = cfg.Site.ASAConfig()
	}
	asa, err := os.Create(f.ASA)
	if err != nil {
		return Files{}, fmt.Errorf("create asa log: %w", err)
	}
	defer func() { err = errors.Join(err, closeErr(asa)) }()
	rtr, err := os.Create(f.Routers)
	if err != nil {
		return Files{}, fmt.Errorf("create router log: %w", err)
	}
	defer func() { err = errors.Join(err, closeErr(rtr)) }()

	truth, err := Generate(ctx, cfg, Writers{ASA: asa, Routers: rtr})
	if err != nil {
		return Files{}, err
	}
	js, err := json.MarshalIndent(truth, "", "  ")
	if err != nil {
		return Files{}, fmt.Errorf("encode truth: %w", err)
	}
	if err := os.WriteFile(f.Truth, append(js, '\n'), 0o644); err != nil {
		return Files{}, fmt.Errorf("write truth: %w", err)
	}
	if err := os.WriteFile(f.Policy, pol, 0o644); err != nil {
		return Files{}, fmt.Errorf("write policy: %w", err)
	}
	if err := os.WriteFile(f.Config, asaCfg, 0o644); err != nil {
		return Files{}, fmt.Errorf("write asa config: %w", err)
	}
	f.Result = truth
	return f, nil
}

func closeErr(f *os.File) error {
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	return nil
}
