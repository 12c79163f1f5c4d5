//go:build linux

package main

import "syscall"

// childAttrs makes the kernel kill the child when memwatch dies, even by
// SIGKILL, which leaves no chance to forward anything: a child outliving
// its watcher would run unwatched and orphaned. The signal fires when the
// thread that started the child ends, so runCmd starts it on a locked
// thread, which the runtime does not end while the goroutine runs.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
