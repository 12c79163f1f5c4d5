//go:build !unix

package main

import (
	"os"
	"strconv"
	"syscall"
)

var forwardedSignals = []os.Signal{os.Interrupt}

func reachesChildAnyway(os.Signal) bool { return false }

func signalName(sig syscall.Signal) string { return "signal " + strconv.Itoa(int(sig)) }
