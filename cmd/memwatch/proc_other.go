//go:build !unix

package main

import "os"

var forwardedSignals = []os.Signal{os.Interrupt}

func signaled(*os.ProcessState) (int, bool) { return 0, false }

func peakRSS(*os.ProcessState) (uint64, bool) { return 0, false }
