// ParseHostPort: the one strict reading of a "host:port" address a user or a config gives
// (listen address, static peers). The host is a name or IPv4 address without ':', or an IPv6
// address in brackets ("[::1]:7070"), a link-local one with its interface ("[fe80::1%eth0]:7070",
// as a connection's remote address reads); the port is decimal, 1..65535 (0 too where the caller
// lets the system pick one). Anything else, "127.0.0.1:7070:1" included, is refused with a
// message that shows the expected form. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gl {

struct HostPort {
  std::string host;  // without the brackets of an IPv6 address (its %zone kept)
  std::uint16_t port = 0;
};

enum class PortZero { kRefused, kAllowed };

Result<HostPort> ParseHostPort(std::string_view address, PortZero port_zero = PortZero::kRefused);

// The host of a HOST:PORT address (as ParseHostPort reads it, port 0 allowed), for keying what
// is counted per remote host; an address that is not HOST:PORT is its own host.
std::string HostOf(std::string_view address);

}  // namespace gl
