package leakdetect

import "time"

// clock is time as the running detector sees it; tests drive a fake one.
type clock interface {
	Now() time.Time
	NewTicker(d time.Duration) ticker
}

// ticker is the part of time.Ticker the detector uses.
type ticker interface {
	C() <-chan time.Time
	Stop()
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTicker(d time.Duration) ticker { return realTicker{time.NewTicker(d)} }

type realTicker struct{ *time.Ticker }

func (t realTicker) C() <-chan time.Time { return t.Ticker.C }
