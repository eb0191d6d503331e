package main

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90m":   90 * time.Minute,
		"12h":   12 * time.Hour,
		"7d":    7 * 24 * time.Hour,
		"1d12h": 36 * time.Hour,
		"0d":    0,
		"1.5h":  90 * time.Minute,
	} {
		got, err := parseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "d", "7", "x", "-1d", "1d-2h", "7dd", "3w", "99999999999d"} {
		_, err := parseDuration(in)
		assert.Error(t, err, in)
	}
}

func TestTimeFlag(t *testing.T) {
	var f timeFlag
	require.NoError(t, f.Set("2026-03-01"))
	assert.Equal(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), f.t)
	require.NoError(t, f.Set("2026-03-01T10:00:00+02:00"))
	assert.True(t, f.t.Equal(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)))
	assert.Error(t, f.Set("yesterday"))
}

func TestIsTerminal(t *testing.T) {
	assert.False(t, isTerminal(&bytes.Buffer{}))
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f), "a regular file is not a terminal")
}
