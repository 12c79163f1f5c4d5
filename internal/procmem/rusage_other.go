//go:build !unix

package procmem

import "os"

func rusageMaxRSS(*os.ProcessState) (uint64, bool) { return 0, false }

func selfMaxRSS() (uint64, bool) { return 0, false }
