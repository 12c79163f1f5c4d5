package procmem

// source is what each platform provides.
type source interface {
	read() (Usage, error)
	close() error
}
