//go:build !unix

package childmem

import "os"

func rusageMaxRSS(*os.ProcessState) (uint64, bool) { return 0, false }

func selfMaxRSS() (uint64, bool) { return 0, false }
