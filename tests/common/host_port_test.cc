// The strict host:port reading of common/host_port.h.
#include "common/host_port.h"

#include <gtest/gtest.h>

namespace gl {
namespace {

TEST(HostPortTest, AcceptsNamesIpv4AndBracketedIpv6) {
  Result<HostPort> v4 = ParseHostPort("127.0.0.1:7070");
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7070);
  EXPECT_EQ(ParseHostPort("pi-3.local:1").value().host, "pi-3.local");
  Result<HostPort> v6 = ParseHostPort("[fe80::1]:65535");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "fe80::1");
  EXPECT_EQ(v6->port, 65535);
  EXPECT_EQ(ParseHostPort("[fe80::1%eth0]:7070").value().host, "fe80::1%eth0");  // as a link-local peer reads
}

TEST(HostPortTest, RefusesEverythingElseSayingTheForm) {
  for (const char* bad : {"127.0.0.1:7070:1", "127.0.0.1", "127.0.0.1:", ":7070", "host:0", "host:65536", "host:-1",
                          "host:+80", "host:70x", "host:123456", "fe80::1:7070", "[fe80::1]7070", "[fe80::1:7070",
                          "[]:7070", "[host]:7070", "[fe80::1%]:7070", "[fe80::1%e/0]:7070", "[%eth0]:7070", "ho st:7070", "host/x:7070", ""}) {
    Result<HostPort> r = ParseHostPort(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("HOST:PORT"), std::string::npos) << r.status().ToString();
  }
}

TEST(HostPortTest, PortZeroOnlyWhereTheSystemMayPick) {
  EXPECT_FALSE(ParseHostPort("0.0.0.0:0").ok());
  Result<HostPort> any = ParseHostPort("0.0.0.0:0", PortZero::kAllowed);
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_EQ(any->port, 0);
}

}  // namespace
}  // namespace gl
