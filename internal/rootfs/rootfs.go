// Package rootfs opens the files memwatch reads (/proc, /sys/fs/cgroup)
// under a root directory, as a reader of a tree another program may write
// must: a symbolic link that leads out of the root is refused, not
// followed (os.Root resolves every path inside it); only regular files are
// read, and opening never blocks (a FIFO planted where a file was expected
// would otherwise hold the caller forever).
package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotRegular is returned for a path that names something other than a
// regular file: a FIFO, a device, a socket, a directory.
var ErrNotRegular = errors.New("not a regular file")

// rel is path relative to root; an error when it is not under root.
func rel(root, path string) (string, error) {
	r, err := filepath.Rel(root, path)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: not under %s", path, root)
	}
	return r, nil
}

// Open opens path, an absolute path under root, for reading. A path that
// does not exist gives an error matching fs.ErrNotExist; a link out of the
// root, or anything but a regular file, another error naming the path.
func Open(root, path string) (*os.File, error) {
	r, err := rel(root, path)
	if err != nil {
		return nil, err
	}
	dir, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	f, err := dir.OpenFile(r, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, unwrapPath(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, fi.Mode().Type())
	}
	return f, nil
}

// unwrapPath drops the *fs.PathError's own path (relative to the root,
// and said again by the caller) but keeps what went wrong.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadFile reads path under root, at most max bytes: a longer file is an
// error, so a file grown huge is never held whole.
func ReadFile(root, path string, max int) ([]byte, error) {
	f, err := Open(root, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s: longer than %d bytes", path, max)
	}
	return b, nil
}

// IsDir reports whether path under root is a directory, resolved inside
// the root.
func IsDir(root, path string) bool {
	r, err := rel(root, path)
	if err != nil {
		return false
	}
	dir, err := os.OpenRoot(root)
	if err != nil {
		return false
	}
	defer dir.Close()
	fi, err := dir.Stat(r)
	return err == nil && fi.IsDir()
}
