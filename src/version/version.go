// Package version holds the build's version, set through -ldflags -X at
// release time and read from the module's build info otherwise.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X github.com/replicasd/replicasd/src/version.Version=v1.2.3
// -X github.com/replicasd/replicasd/src/version.Revision=abcdef".
var (
	Version  = "dev"
	Revision = ""
)

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	GoVersion string `json:"goVersion"`
}

// Get returns the build information, filling the revision from the VCS
// stamp Go embeds when ldflags did not set it.
func Get() Info {
	info := Info{Version: Version, Revision: Revision, GoVersion: runtime.Version()}
	if info.Revision == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					info.Revision = s.Value
				}
			}
		}
	}
	if info.Revision == "" {
		info.Revision = "unknown"
	}
	return info
}

// String is the one-line form printed by --version.
func (i Info) String() string {
	return fmt.Sprintf("replicasd %s (revision %s, %s)", i.Version, i.Revision, i.GoVersion)
}
