//go:build unix

package main

import (
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

var forwardedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// reachesChildAnyway reports whether the child got s without us: a
// terminal sends Ctrl-C (SIGINT) and Ctrl-\ (SIGQUIT) to its whole
// foreground process group, which the child shares with memwatch while
// memwatch runs in the foreground. Forwarding those too would deliver them
// twice. Sent to memwatch alone (kill, or memwatch in the background),
// they are forwarded.
func reachesChildAnyway(s os.Signal) bool {
	if s != os.Interrupt && s != syscall.SIGQUIT {
		return false
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false // no controlling terminal: nobody else signals the group
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg == syscall.Getpgrp()
}

// signalName is "SIGTERM" for 15.
func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return "signal " + strconv.Itoa(int(sig))
}
