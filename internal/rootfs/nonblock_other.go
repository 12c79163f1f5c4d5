//go:build !unix

package rootfs

// nonBlock is nothing where files do not block on open.
const nonBlock = 0
