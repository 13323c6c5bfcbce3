// ParseHostPort: the one strict reading of a "host:port" address a user or a config gives
// (listen address, static peers). The host is a name or IPv4 address without ':', or an IPv6
// address in brackets ("[::1]:7070"); the port is decimal, 1..65535 (0 too where the caller
// lets the system pick one). Anything else, "127.0.0.1:7070:1" included, is refused with a
// message that shows the expected form. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gl {

struct HostPort {
  std::string host;  // without the brackets of an IPv6 address
  std::uint16_t port = 0;
};

enum class PortZero { kRefused, kAllowed };

Result<HostPort> ParseHostPort(std::string_view address, PortZero port_zero = PortZero::kRefused);

}  // namespace gl
