// Package childmem tells how a child process used memory and how it
// ended, once it has: its own peak resident memory and where that figure
// comes from (the kernel's rusage, or its high-water mark read while it
// ran), and the signal that killed it. spans records these on a worker's
// span, and `memwatch run` prints them.
package childmem
