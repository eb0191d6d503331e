package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/big"
)

// The format of a raw API key, after GitHub's tokens:
//
//	mcp_ + 43 base62 characters (32 bytes from crypto/rand) + 6 base62 characters (CRC32)
//
// 53 characters in all. The checksum, CRC32 (IEEE) of the 43 characters of
// the secret, lets Verify refuse a mistyped or made-up key without a
// database read, and lets secret scanners tell a real key from look-alikes.
const (
	// KeyPrefix starts every raw key.
	KeyPrefix = "mcp_"
	// KeyLen is the length of a raw key.
	KeyLen = len(KeyPrefix) + keySecretLen + keyChecksumLen
	// KeyPattern is a regular expression (RE2 and PCRE) matching a raw key,
	// for secret scanners; anchor it with \b, or ^ and $, to match whole
	// keys only. The checksum tells real keys from look-alikes.
	KeyPattern = `mcp_[0-9A-Za-z]{49}`
	// KeyDisplayLen is the length of the display prefix stored with a key
	// (KeyPrefix and the first 6 characters of the secret), shown to
	// people so that they can tell their keys apart.
	KeyDisplayLen = len(KeyPrefix) + 6

	keySecretBytes = 32
	keySecretLen   = 43 // base62 digits of a 256-bit number: 62^43 > 2^256
	keyChecksumLen = 6  // base62 digits of a 32-bit number: 62^6 > 2^32
)

// base62 is big.Int's digit order for base 62.
const base62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newRawKey returns a new random key in the format above.
func newRawKey() (string, error) {
	var b [keySecretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("gateway: read random bytes: %w", err)
	}
	digits := new(big.Int).SetBytes(b[:]).Text(62)
	buf := make([]byte, 0, KeyLen)
	buf = append(buf, KeyPrefix...)
	for range keySecretLen - len(digits) {
		buf = append(buf, '0')
	}
	buf = append(buf, digits...)
	buf = appendChecksum(buf, crcString(string(buf[len(KeyPrefix):])))
	return string(buf), nil
}

// appendChecksum appends c as keyChecksumLen base62 digits.
func appendChecksum(buf []byte, c uint32) []byte {
	var d [keyChecksumLen]byte
	for i := keyChecksumLen - 1; i >= 0; i-- {
		d[i] = base62[c%62]
		c /= 62
	}
	return append(buf, d[:]...)
}

// wellFormed reports whether raw has a key's length, prefix, alphabet and a
// matching checksum. It reads only raw (no allocation, no database), so
// that floods of made-up keys cost next to nothing.
func wellFormed(raw string) bool {
	if len(raw) != KeyLen || raw[:len(KeyPrefix)] != KeyPrefix {
		return false
	}
	secret := raw[len(KeyPrefix) : len(KeyPrefix)+keySecretLen]
	var sum uint64
	for i := len(KeyPrefix); i < KeyLen; i++ {
		d := digit(raw[i])
		if d < 0 {
			return false
		}
		if i >= len(KeyPrefix)+keySecretLen {
			sum = sum*62 + uint64(d)
		}
	}
	return sum == uint64(crcString(secret))
}

// digit returns the value of a base62 digit, or -1.
func digit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 36
	}
	return -1
}

// crcString is crc32.ChecksumIEEE of s, without converting s to a []byte
// (which would allocate on every Verify).
func crcString(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return ^crc
}

// keyHash is the SHA-256 of a raw key, the cache's key.
func keyHash(raw string) [sha256.Size]byte {
	// A fixed-size copy on the stack: []byte(raw) would allocate.
	var b [KeyLen]byte
	n := copy(b[:], raw)
	return sha256.Sum256(b[:n])
}

// hashHex is the stored form of a key hash.
func hashHex(h [sha256.Size]byte) string { return hex.EncodeToString(h[:]) }

// HashKey returns what mcpstore stores of a raw key, db.APIKey.KeyHash: its
// SHA-256 in lowercase hex, 64 characters. A key made elsewhere and stored
// with this hash (APIKeys().Create) is looked up by APIKeys().GetByHash;
// Keys.Verify also needs the key to be well formed (KeyPattern).
func HashKey(raw string) string { return hashHex(keyHash(raw)) }
