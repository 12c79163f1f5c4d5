//go:build !unix

package spans

import "os"

// exitSignal: processes are not killed by signals here.
func exitSignal(*os.ProcessState) (string, bool) { return "", false }

func sigkilled(*os.ProcessState) bool { return false }
