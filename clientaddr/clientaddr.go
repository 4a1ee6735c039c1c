// Package clientaddr tells which address a request came from: the peer's, or, when the
// peer is a trusted proxy (TRUSTED_PROXIES), the one the proxy put in X-Forwarded-For.
// A header from anyone else is ignored, since any client can write one.
package clientaddr

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds a request's client address. The zero Resolver trusts no proxy.
type Resolver struct {
	trusted []netip.Prefix
}

// Parse reads a comma-separated list of proxies' addresses and networks ("10.0.0.0/8,
// 127.0.0.1, fd00::/8"); an empty list trusts none.
func Parse(list string) (Resolver, error) {
	var r Resolver
	for f := range strings.SplitSeq(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return Resolver{}, fmt.Errorf("%q: want an address or a network such as 10.0.0.0/8", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96) // peers are compared unmapped
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

// Addr is the request's client address: the peer's, unless the peer is trusted; then
// X-Forwarded-For is read from the right, past the trusted proxies it lists, and the
// first address that is not one of them is the client's. A hop that is no address
// ends the walk at the proxy before it. An invalid Addr when even the peer has none.
func (r Resolver) Addr(req *http.Request) netip.Addr {
	addr := peer(req.RemoteAddr)
	if !r.trusts(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// Some balancers write a hop with its port ("203.0.113.9:5555").
			ap, perr := netip.ParseAddrPort(strings.TrimSpace(hops[i]))
			if perr != nil {
				break
			}
			hop = ap.Addr()
		}
		addr = hop.Unmap()
		if !r.trusts(addr) {
			break
		}
	}
	return addr
}

func (r Resolver) trusts(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peer is the address of a RemoteAddr ("192.0.2.1:1234", "[2001:db8::1]:1234").
func peer(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(remote)
	return a.Unmap()
}

// Key is what a per-address limit counts a client under: an IPv4 address, or the /64
// an IPv6 address is in (one subscriber's network: a client has all of it to pick
// addresses from). "unknown" when a is invalid.
func Key(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is4():
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
