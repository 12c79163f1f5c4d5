package leakdetectconnector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/memwatch/memwatch/leakdetect"
)

// The streams' saved state in a storage extension: one entry per stream,
// under "stream/" and the hash of its identity, and an index entry
// listing them (a storage client need not list its keys). A stream's
// entry holds its identity, its newest point's time and the analyzer's
// state (leakdetect's MarshalBinary: versioned and checksummed).
const (
	indexKey     = "index"
	streamPrefix = "stream/"
	entryMagic   = "MWC1"
	saveChunk    = 1000 // entries written per storage batch
)

// storageClient opens the configured storage extension's client for this
// connector; nil when no storage is configured.
func storageClient(ctx context.Context, host component.Host, id *component.ID, self component.ID) (storage.Client, error) {
	if id == nil {
		return nil, nil
	}
	ext, ok := host.GetExtensions()[*id]
	if !ok {
		return nil, fmt.Errorf("storage %s: no such extension in the service", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage %s: not a storage extension", id)
	}
	return se.GetClient(ctx, component.KindConnector, self, "")
}

func entryKey(streamKey string) string {
	sum := sha256.Sum256([]byte(streamKey))
	return streamPrefix + hex.EncodeToString(sum[:16])
}

// encodeStream is a stream's entry.
func encodeStream(st *stream) ([]byte, error) {
	state, err := st.analyzer.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := append([]byte(entryMagic), binary.AppendUvarint(nil, uint64(len(st.key)))...)
	b = append(b, st.key...)
	b = binary.LittleEndian.AppendUint64(b, uint64(st.last.UnixNano()))
	return append(b, state...), nil
}

// decodeStream restores a stream from its entry into a fresh analyzer
// made by mk.
func decodeStream(b []byte, mk func() (*leakdetect.Analyzer, error)) (*stream, error) {
	rest, ok := bytes.CutPrefix(b, []byte(entryMagic))
	if !ok {
		return nil, errors.New("not a saved stream")
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) || len(rest)-k-int(n) < 8 {
		return nil, errors.New("truncated")
	}
	key := string(rest[k : k+int(n)])
	rest = rest[k+int(n):]
	last := time.Unix(0, int64(binary.LittleEndian.Uint64(rest))).UTC()
	a, err := mk()
	if err != nil {
		return nil, err
	}
	if err := a.UnmarshalBinary(rest[8:]); err != nil {
		return nil, err
	}
	return &stream{key: key, analyzer: a, last: last}, nil
}

// save writes every stream's state and the index, and deletes the
// entries of the streams gone since the last save.
func (c *leakConnector) save(ctx context.Context) error {
	if c.store == nil {
		return nil
	}
	c.mu.Lock()
	var ops []*storage.Operation
	var index bytes.Buffer
	var errs []error
	for e := c.streams.lru.Front(); e != nil; e = e.Next() {
		st := e.Value.(*stream)
		b, err := encodeStream(st)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		k := entryKey(st.key)
		index.WriteString(k)
		index.WriteByte('\n')
		ops = append(ops, storage.SetOperation(k, b))
	}
	for _, k := range c.streams.takeGone() {
		ops = append(ops, storage.DeleteOperation(entryKey(k)))
	}
	c.mu.Unlock()
	ops = append(ops, storage.SetOperation(indexKey, index.Bytes()))
	for len(ops) > 0 {
		n := min(len(ops), saveChunk)
		if err := c.store.Batch(ctx, ops[:n]...); err != nil {
			return errors.Join(append(errs, fmt.Errorf("leakdetect: saving streams: %w", err))...)
		}
		ops = ops[n:]
	}
	return errors.Join(errs...)
}

// restore reads the saved streams back. An entry that cannot be read (a
// state of another analyzer version, corrupted bytes) is reported and
// its stream starts afresh; restore never fails the start.
func (c *leakConnector) restore(ctx context.Context) (restored, bad int) {
	index, err := c.store.Get(ctx, indexKey)
	if err != nil {
		c.logger.Warn("leakdetect: reading the saved streams' index; every stream starts afresh", zap.Error(err))
		return 0, 0
	}
	var ops []*storage.Operation
	for _, k := range bytes.Split(bytes.TrimSpace(index), []byte{'\n'}) {
		if len(k) > 0 {
			ops = append(ops, storage.GetOperation(string(k)))
		}
	}
	now := c.now()
	for len(ops) > 0 {
		n := min(len(ops), saveChunk)
		if err := c.store.Batch(ctx, ops[:n]...); err != nil {
			c.logger.Warn("leakdetect: reading saved streams; the rest start afresh", zap.Error(err))
			return restored, bad
		}
		for _, op := range ops[:n] {
			if op.Value == nil {
				continue
			}
			st, err := decodeStream(op.Value, c.streams.newAnalyzer)
			if err != nil {
				bad++
				c.logger.Warn("leakdetect: a saved stream cannot be restored; it starts afresh", zap.String("entry", op.Key), zap.Error(err))
				continue
			}
			c.streams.put(st, now)
			restored++
		}
		ops = ops[n:]
	}
	return restored, bad
}
