package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Files are the paths WriteDir wrote.
type Files struct {
	ASA     string // asa1.log
	Routers string // routers.log
	Truth   string // truth.json
	Policy  string // site.yaml
}

// File names WriteDir uses inside its directory.
const (
	FileASA     = "asa1.log"
	FileRouters = "routers.log"
	FileTruth   = "truth.json"
	FilePolicy  = "site.yaml"
)

// WriteDir generates a run into dir (created if missing): the ASA and router logs, the ground
// truth as indented JSON and the site policy. Existing files of those names are replaced. On
// error the files written so far are left in place.
func WriteDir(ctx context.Context, cfg Config, dir string) (_ Files, _ Truth, err error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, Truth{}, fmt.Errorf("create output dir: %w", err)
	}
	f := Files{
		ASA:     filepath.Join(dir, FileASA),
		Routers: filepath.Join(dir, FileRouters),
		Truth:   filepath.Join(dir, FileTruth),
		Policy:  filepath.Join(dir, FilePolicy),
	}
	pol, err := cfg.Site.Policy()
	if err != nil {
		return Files{}, Truth{}, err
	}
	asa, err := os.Create(f.ASA)
	if err != nil {
		return Files{}, Truth{}, fmt.Errorf("create asa log: %w", err)
	}
	defer func() { err = errors.Join(err, closeErr(asa)) }()
	rtr, err := os.Create(f.Routers)
	if err != nil {
		return Files{}, Truth{}, fmt.Errorf("create router log: %w", err)
	}
	defer func() { err = errors.Join(err, closeErr(rtr)) }()

	truth, err := Generate(ctx, cfg, Writers{ASA: asa, Routers: rtr})
	if err != nil {
		return Files{}, Truth{}, err
	}
	js, err := json.MarshalIndent(truth, "", "  ")
	if err != nil {
		return Files{}, Truth{}, fmt.Errorf("encode truth: %w", err)
	}
	if err := os.WriteFile(f.Truth, append(js, '\n'), 0o644); err != nil {
		return Files{}, Truth{}, fmt.Errorf("write truth: %w", err)
	}
	if err := os.WriteFile(f.Policy, pol, 0o644); err != nil {
		return Files{}, Truth{}, fmt.Errorf("write policy: %w", err)
	}
	return f, truth, nil
}

func closeErr(f *os.File) error {
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	return nil
}
