// Package sangkien holds the files the gateway ships inside its binary: the sample
// programs catalog, used when PROGRAMS_FILE is empty so that a fresh checkout runs
// with no configuration.
package sangkien

import _ "embed"

// DefaultPrograms is programs.yaml from the repository root (the format programs.Load reads).
//
//go:embed programs.yaml
var DefaultPrograms []byte
