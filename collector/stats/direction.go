package stats

import "github.com/firebreak-dev/firebreak/collector/ciscolog"

// Direction rules PacketInitiator applies, for evidence.
const (
	DirectionAsLogged    = "as logged"                             // nothing says otherwise
	DirectionServicePort = "reply: service port to ephemeral port" // swapped
)

// servicePorts are well-known service ports above 1023 that a reply comes from.
var servicePorts = map[uint16]bool{1433: true, 1521: true, 2049: true, 3260: true, 3306: true, 3389: true,
	5432: true, 5900: true, 5985: true, 5986: true, 8080: true, 8443: true, 9100: true}

// IsServicePort says whether p is a port servers listen on: below 1024 or a well-known one.
func IsServicePort(p uint16) bool { return p != 0 && (p < 1024 || servicePorts[p]) }

// PacketInitiator infers who opened the connection a logged packet belongs to, for logs of
// packets (IOS access-list logging) rather than connections: a packet from a service port to
// an ephemeral port is a reply, so its destination is the initiator. ICMP and anything
// ambiguous stay as logged. The rule that decided is returned for evidence.
func PacketInitiator(src, dst ciscolog.Endpoint, proto uint8) (client, server ciscolog.Endpoint, rule string) {
	if proto != 6 && proto != 17 {
		return src, dst, DirectionAsLogged
	}
	if IsServicePort(src.Port) && !IsServicePort(dst.Port) && dst.Port >= 1024 {
		return dst, src, DirectionServicePort
	}
	return src, dst, DirectionAsLogged
}
