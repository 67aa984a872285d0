package policies

import (
	"net"
	"strconv"
)

// Audit says where the audit entries go besides the database.
type Audit struct {
	// Syslog receivers get every audit entry (of proposals and of findings) as an RFC 5424
	// message, with its chain hash, so a copy outside the data folder can show a rewritten log.
	Syslog []AuditSyslog `yaml:"syslog"`
}

// AuditSyslog is one syslog receiver of the audit entries.
type AuditSyslog struct {
	Address   string `yaml:"address"`   // host:port
	Transport string `yaml:"transport"` // udp (default), tcp (RFC 6587 octet counting) or tls (RFC 5425)
	// CAFile is a PEM bundle for the receiver's certificate (tls; default the system roots) and
	// ServerName the name it must carry (default the host of Address).
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
}

// Transports of AuditSyslog.
const (
	SyslogUDP = "udp"
	SyslogTCP = "tcp"
	SyslogTLS = "tls"
)

func (v *validator) audit() {
	seen := map[string]int{}
	for i := range v.cfg.Audit.Syslog {
		r := &v.cfg.Audit.Syslog[i]
		p := idx("$.audit.syslog", i)
		if r.Transport == "" {
			r.Transport = SyslogUDP
		}
		switch r.Transport {
		case SyslogUDP, SyslogTCP, SyslogTLS:
		default:
			v.errf(p+".transport", "transport %q must be udp, tcp or tls", r.Transport)
		}
		host, port, err := net.SplitHostPort(r.Address)
		n, perr := strconv.Atoi(port)
		switch {
		case r.Address == "":
			v.errf(p+".address", "required: host:port of the syslog receiver")
		case err != nil || host == "" || perr != nil || n < 1 || n > 65535:
			v.errf(p+".address", "%q is not host:port (port 1-65535)", r.Address)
		}
		key := r.Transport + "/" + r.Address
		if j, dup := seen[key]; dup {
			v.errf(p+".address", "%s listed twice (also at %s)", key, v.where(idx("$.audit.syslog", j)+".address"))
		}
		seen[key] = i
		if r.Transport != SyslogTLS && (r.CAFile != "" || r.ServerName != "") {
			v.errf(p+".transport", "ca_file and server_name need transport tls")
		}
	}
}
