package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyFormat(t *testing.T) {
	whole := regexp.MustCompile(`^` + KeyPattern + `$`)
	seen := map[string]bool{}
	for range 1000 {
		raw, err := newRawKey()
		require.NoError(t, err)
		require.Len(t, raw, KeyLen)
		assert.Equal(t, 53, KeyLen)
		assert.True(t, whole.MatchString(raw), raw)
		assert.True(t, wellFormed(raw), raw)
		assert.False(t, seen[raw], "keys repeat")
		seen[raw] = true
	}
	// A scanner finds keys inside text, and only whole ones.
	raw, err := newRawKey()
	require.NoError(t, err)
	scanner := regexp.MustCompile(`\b` + KeyPattern + `\b`)
	assert.Equal(t, []string{raw}, scanner.FindAllString("export MCP_KEY="+raw+" # prod", -1))
	assert.Empty(t, scanner.FindAllString("x"+raw[:KeyLen-1], -1))
}

func TestCRCString(t *testing.T) {
	for _, s := range []string{"", "a", "0123456789", strings.Repeat("Zz9", 20)} {
		assert.Equal(t, crc32.ChecksumIEEE([]byte(s)), crcString(s), s)
	}
}

// withChecksum returns a key made of secret and its correct checksum, so
// that only the secret's content can be wrong.
func withChecksum(secret string) string {
	return string(appendChecksum([]byte(KeyPrefix+secret), crcString(secret)))
}

func TestWellFormedRefuses(t *testing.T) {
	raw, err := newRawKey()
	require.NoError(t, err)
	secret := raw[len(KeyPrefix) : len(KeyPrefix)+keySecretLen]
	require.Equal(t, raw, withChecksum(secret), "withChecksum rebuilds a real key")

	flip := func(s string, i int) string {
		c := byte('a')
		if s[i] == 'a' {
			c = 'b'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	for name, bad := range map[string]string{
		"Empty":           "",
		"PrefixOnly":      KeyPrefix,
		"WrongPrefix":     "mcx_" + raw[4:],
		"UpperPrefix":     "MCP_" + raw[4:],
		"GitHubPrefix":    "ghp_" + raw[4:],
		"SecretTypo":      flip(raw, 10),
		"ChecksumTypo":    flip(raw, KeyLen-1),
		"Short":           raw[:KeyLen-1],
		"Long":            raw + "0",
		"ShortRebuilt":    withChecksum(secret[1:]),
		"LongRebuilt":     withChecksum(secret + "0"),
		"NonBase62":       withChecksum(secret[:20] + "-" + secret[21:]),
		"Underscore":      withChecksum(secret[:20] + "_" + secret[21:]),
		"NonASCII":        withChecksum(secret[:20] + "é" + secret[22:]),
		"NUL":             withChecksum(secret[:20] + "\x00" + secret[21:]),
		"Spaces":          " " + raw[:KeyLen-1],
		"ChecksumNotBase": raw[:KeyLen-1] + "+",
		"ChecksumTooBig":  KeyPrefix + secret + "ZZZZZZ", // 62^6-1 > 2^32
	} {
		assert.False(t, wellFormed(bad), name)
	}
}

func TestKeyHash(t *testing.T) {
	raw, err := newRawKey()
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(raw))
	assert.Equal(t, hex.EncodeToString(sum[:]), hashHex(keyHash(raw)))
}

// The checks of every Verify allocate nothing.
func TestKeyChecksDoNotAllocate(t *testing.T) {
	raw, err := newRawKey()
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		if !wellFormed(raw) {
			t.Fatal("refused")
		}
		_ = keyHash(raw)
	})
	assert.Zero(t, allocs)
}
