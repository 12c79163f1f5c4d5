// Package fakeclock is a clock.Clock for tests: time moves when the test
// says, and each ticker ticks when the test fires it, so background loops
// are driven without sleeping.
package fakeclock

import (
	"runtime"
	"sync"
	"time"

	"github.com/memwatch/memwatch/internal/clock"
)

// Clock is a fake clock. Make it with New.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	tickers map[time.Duration]*ticker
}

// New returns a clock that reads start.
func New(start time.Time) *Clock {
	return &Clock{now: start, tickers: map[time.Duration]*ticker{}}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// NewTicker returns a ticker that ticks only when Fire is called with d.
func (c *Clock) NewTicker(d time.Duration) clock.Ticker {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &ticker{c: make(chan time.Time)}
	c.tickers[d] = t
	return t
}

// Fire sends one tick to the ticker made for d, waiting for the loop to
// make it, and returns once the loop took the tick: a loop finishes one
// tick's work before it takes the next.
func (c *Clock) Fire(d time.Duration) {
	for c.ticker(d) == nil {
		runtime.Gosched() // the loop has not made its ticker yet
	}
	c.ticker(d).c <- c.Now()
}

func (c *Clock) ticker(d time.Duration) *ticker {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tickers[d]
}

type ticker struct{ c chan time.Time }

func (t *ticker) C() <-chan time.Time { return t.c }
func (t *ticker) Stop()               {}
