#include "common/host_port.h"

#include <algorithm>
#include <cctype>

namespace gl {
namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'; }
bool IsIpv6Char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; }

}  // namespace

Result<HostPort> ParseHostPort(std::string_view address, PortZero port_zero) {
  auto refuse = [&](const std::string& why) {
    std::string message(1, '\'');
    message.append(address).append("' is not HOST:PORT (").append(why);
    message.append("; e.g. 192.168.1.20:7070, pi-3.local:7070 or [fe80::1]:7070, port ");
    message.append(port_zero == PortZero::kAllowed ? "0-65535)" : "1-65535)");
    return Status::InvalidArgument(message);
  };
  std::string_view host, port;
  if (address.substr(0, 1) == "[") {
    const std::size_t close = address.find(']');
    if (close == std::string_view::npos || address.substr(close + 1, 1) != ":") {
      return refuse("an IPv6 address is written [address]:port");
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
    const std::size_t percent = host.find('%');
    const std::string_view ip = host.substr(0, percent);
    const std::string_view zone = percent == std::string_view::npos ? "" : host.substr(percent + 1);
    if (ip.find(':') == std::string_view::npos || !std::all_of(ip.begin(), ip.end(), IsIpv6Char)) {
      return refuse("what is in brackets is not an IPv6 address");
    }
    if (percent != std::string_view::npos && (zone.empty() || !std::all_of(zone.begin(), zone.end(), IsNameChar))) {
      return refuse("an IPv6 zone is an interface name, as in [fe80::1%eth0]");
    }
  } else {
    const std::size_t colon = address.find(':');
    if (colon == std::string_view::npos) return refuse("no ':PORT'");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (port.find(':') != std::string_view::npos) {
      return refuse("more than one ':'; an IPv6 address goes in brackets");
    }
    if (!std::all_of(host.begin(), host.end(), IsNameChar)) {
      return refuse("the host may hold letters, digits, '-', '.' and '_' only");
    }
  }
  if (host.empty()) return refuse("no host");
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return refuse("the port must be a number");
  }
  const int value = std::stoi(std::string(port));
  if (value > 65535 || (value == 0 && port_zero == PortZero::kRefused)) return refuse("port out of range");
  return HostPort{std::string(host), static_cast<std::uint16_t>(value)};
}

std::string HostOf(std::string_view address) {
  Result<HostPort> parsed = ParseHostPort(address, PortZero::kAllowed);
  return parsed.ok() ? parsed->host : std::string(address);
}

}  // namespace gl
