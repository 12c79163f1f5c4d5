//go:build !linux

package main

import "syscall"

// childAttrs is empty: only Linux has a parent-death signal.
func childAttrs() *syscall.SysProcAttr { return nil }
