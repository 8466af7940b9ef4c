//go:build linux || darwin || freebsd

package bus

import "golang.org/x/sys/unix"

// diskFree is how many bytes an unprivileged writer may still store on the
// file system holding dir.
func diskFree(dir string) (int64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true //nolint:unconvert // field types differ between systems
}
