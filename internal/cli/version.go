package cli

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Version describes the build for "switchboard version": the module
// version and the commit it was built from, read from the build
// information the Go toolchain embeds. override, when not empty, is the
// version a packager set at link time (-ldflags "-X main.version=...").
func Version(bi *debug.BuildInfo, override string) string {
	version, commit, when, modified := "(unknown)", "", "", false
	goVersion := ""
	if bi != nil {
		goVersion = bi.GoVersion
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if override != "" {
		version = override
	}
	var b strings.Builder
	fmt.Fprintf(&b, "switchboard %s", version)
	if commit != "" {
		fmt.Fprintf(&b, "\ncommit %s", commit)
		if when != "" {
			fmt.Fprintf(&b, " (%s)", when)
		}
		if modified {
			b.WriteString(", with uncommitted changes")
		}
	} else {
		b.WriteString("\ncommit unknown (built without version control information)")
	}
	if goVersion != "" {
		fmt.Fprintf(&b, "\nbuilt with %s", goVersion)
	}
	return b.String()
}
