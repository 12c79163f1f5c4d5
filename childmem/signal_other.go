//go:build !unix

package childmem

import (
	"os"
	"syscall"
)

// Signal: processes are not killed by signals here.
func Signal(*os.ProcessState) (syscall.Signal, bool) { return 0, false }
