#include "node/config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace gl::node {
namespace {

TEST(ConfigValidateTest, RejectsBadValuesWithTheirRange) {
  Config c;
  c.data = "shard.tsv";
  EXPECT_TRUE(c.Validate().ok());
  Config bad = c;
  bad.hidden = 4;
  EXPECT_NE(bad.Validate().message().find("[8, 1024]"), std::string::npos);
  bad = c;
  bad.data.clear();
  EXPECT_NE(bad.Validate().message().find("--data"), std::string::npos);
  bad = c;
  bad.merge = MergeChoice::kTrimmedMean;
  EXPECT_TRUE(bad.Validate().ok());
  bad.merge_window = 0;
  EXPECT_NE(bad.Validate().message().find("merge_window: must be in [1, 32] (got 0)"), std::string::npos);
  bad = c;
  bad.clip_drop_factor = 0.5;  // would drop models inside the radius
  EXPECT_NE(bad.Validate().message().find("clip_drop_factor: must be 0 (never drop) or >= 1"), std::string::npos);
  bad.clip_drop_factor = 0;
  EXPECT_TRUE(bad.Validate().ok());
  bad.clip_radial_share = 1.5;
  EXPECT_NE(bad.Validate().message().find("clip_radial_share: must be in [0, 1]"), std::string::npos);
  bad.clip_radial_share = 0.1;
  bad.io_nice = 20;
  EXPECT_NE(bad.Validate().message().find("io_nice: must be in [0, 19]"), std::string::npos);
}

TEST(ConfigValidateTest, ErrorsNameTheFlagTyped) {
  Config c;
  c.data = "shard.tsv";
  c.batch_size = 0;
  EXPECT_EQ(c.Validate().message(), "batch_size: must be in [1, 4096] (got 0)");  // a default has no origin
  c.origins["batch_size"] = "--batch-size";
  EXPECT_EQ(c.Validate().message(), "--batch-size: must be in [1, 4096] (got 0)");
}

TEST(ConfigValidateTest, EveryIntervalNamesItsKeyAndHasALowerBound) {
  Config c;
  c.data = "shard.tsv";
  const std::vector<std::pair<double Config::*, std::string>> intervals = {
      {&Config::eval_interval_s, "eval_interval_s"},       {&Config::checkpoint_interval_s, "checkpoint_interval_s"},
      {&Config::gossip_interval_s, "gossip_interval_s"},   {&Config::probe_interval_s, "probe_interval_s"},
      {&Config::exchange_timeout_s, "exchange_timeout_s"}, {&Config::round_deadline_s, "round_deadline_s"},
      {&Config::failover_timeout_s, "failover_timeout_s"}};
  for (const auto& [field, key] : intervals) {
    for (double value : {-1.0, 1e-9, 0.05, std::nan("")}) {
      Config bad = c;
      bad.*field = value;
      EXPECT_EQ(bad.Validate().message().rfind(key + ": must be", 0), 0u) << key << " = " << value << ": "
                                                                         << bad.Validate().message();
    }
  }
  c.gossip_interval_s = 0;  // answer only
  c.eval_interval_s = 0;    // only at exit
  EXPECT_TRUE(c.Validate().ok()) << c.Validate().ToString();
  c.exchange_timeout_s = 0;  // a timeout cannot be off
  EXPECT_FALSE(c.Validate().ok());
}

TEST(ConfigValidateTest, AddressesAreStrictHostPort) {
  Config c;
  c.data = "shard.tsv";
  c.listen = "127.0.0.1:0";  // the system picks the port
  c.peers = {"10.0.0.2:7070", "[fe80::1]:7070", "pi-3.local:7070"};
  EXPECT_TRUE(c.Validate().ok()) << c.Validate().ToString();
  c.peers.push_back("127.0.0.1:7070:1");
  c.origins["peers"] = "--peers";
  const std::string message = c.Validate().message();
  EXPECT_EQ(message.rfind("--peers: '127.0.0.1:7070:1' is not HOST:PORT", 0), 0u) << message;
  c.peers = {"10.0.0.2:0"};
  EXPECT_FALSE(c.Validate().ok());
  c.peers.clear();
  c.listen = "7070";
  EXPECT_NE(c.Validate().message().find("HOST:PORT"), std::string::npos);
}

TEST(ConfigValidateTest, EncryptNeedsAKeyFile) {
  Config c;
  c.data = "shard.tsv";
  c.encrypt = true;
  EXPECT_NE(c.Validate().message().find("key_file"), std::string::npos);
  c.key_file = "cluster.key";
  EXPECT_TRUE(c.Validate().ok());
}

TEST(ConfigValidateTest, StatusSocketDefaultsIntoStateDir) {
  Config c;
  c.state_dir = "/var/lib/gl";
  EXPECT_EQ(c.StatusSocketPath(), "/var/lib/gl/status.sock");
  c.status_socket = "/run/gl.sock";
  EXPECT_EQ(c.StatusSocketPath(), "/run/gl.sock");
}

}  // namespace
}  // namespace gl::node
