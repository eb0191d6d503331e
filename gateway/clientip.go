package gateway

import (
	"net"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds how many X-Forwarded-For entries ClientIP reads,
// from the right: a client can send any number.
const maxForwardedHops = 32

// ClientIP returns the address of the client behind a request that came
// from peer (an http.Request's RemoteAddr, "host:port") with the given
// X-Forwarded-For header values (in the order received).
//
// X-Forwarded-For is read only when peer is one of the trusted proxies.
// Each proxy appends the address it received the request from, so the
// entries the trusted proxies wrote are at the right end, and anything to
// their left is what the client itself sent. ClientIP therefore walks the
// entries from the right and returns the first that is not a trusted
// proxy. Entries that are not IP addresses are skipped. When every entry
// is trusted (or there is none), the leftmost trusted one is the client
// (a proxy calling for itself); with no usable entry, the peer.
//
// The result is a canonical address ("203.0.113.9", "2001:db8::1"), or
// peer unchanged when it is not host:port.
func ClientIP(peer string, forwardedFor []string, trusted []netip.Prefix) string {
	addr, ok := parseAddr(peer)
	if !ok {
		return peer
	}
	if !isTrusted(addr, trusted) {
		return addr.String()
	}
	client := addr
	hops := 0
	for i := len(forwardedFor) - 1; i >= 0 && hops < maxForwardedHops; i-- {
		entries := forwardedFor[i]
		for entries != "" && hops < maxForwardedHops {
			var entry string
			if j := strings.LastIndexByte(entries, ','); j >= 0 {
				entries, entry = entries[:j], entries[j+1:]
			} else {
				entries, entry = "", entries
			}
			hops++
			a, ok := parseAddr(strings.TrimSpace(entry))
			if !ok {
				continue
			}
			if !isTrusted(a, trusted) {
				return a.String()
			}
			client = a
		}
	}
	return client.String()
}

// parseAddr parses an address with or without a port ("203.0.113.9",
// "203.0.113.9:443", "[2001:db8::1]:443", "2001:db8::1"). IPv4-mapped IPv6
// addresses are unmapped, zones dropped.
func parseAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes parses CIDR prefixes ("10.0.0.0/8") and single addresses
// ("192.0.2.7", standing for a /32 or /128), as a configuration gives them
// for trusted proxies.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
