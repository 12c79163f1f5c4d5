// Command leaker is the child of memwatch run's tests: it leaks 1 MiB of
// resident memory every 50 ms for the given duration (a cache that never
// evicts), then exits with the given status; or, with -usr1-exit, waits
// for SIGUSR1 and exits with that status; or, with -count-int, exits with
// the number of SIGINTs it got in the given time after the first.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

var cache [][]byte

func main() {
	d := flag.Duration("for", 20*time.Second, "how long to leak")
	code := flag.Int("exit", 0, "exit status")
	onUSR1 := flag.Int("usr1-exit", -1, "exit with this status on SIGUSR1 (after printing ready)")
	countInt := flag.Duration("count-int", 0, "count SIGINTs for this long after the first and exit with the count")
	flag.Parse()
	if *countInt > 0 {
		sig := make(chan os.Signal, 8)
		signal.Notify(sig, os.Interrupt)
		fmt.Println("ready")
		<-sig
		n := 1
		for end := time.After(*countInt); ; n++ {
			select {
			case <-sig:
			case <-end:
				os.Exit(n)
			}
		}
	}
	if *onUSR1 >= 0 {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGUSR1)
		fmt.Println("ready")
		<-sig
		os.Exit(*onUSR1)
	}
	for end := time.Now().Add(*d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		cache = append(cache, b)
	}
	os.Exit(*code)
}
