//go:build !unix

package main

import (
	"os"
	"strconv"
)

var forwardedSignals = []os.Signal{os.Interrupt}

func reachesChildAnyway(os.Signal) bool { return false }

func signaled(*os.ProcessState) (int, bool) { return 0, false }

func signalName(n int) string { return "signal " + strconv.Itoa(n) }
