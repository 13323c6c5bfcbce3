#include "gossip/options.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace gl::gossip {
namespace {

Options Named(Options options) {
  options.node_id = "n1";
  return options;
}

TEST(OptionsTest, PresetsAreValid) {
  EXPECT_TRUE(Named(DefaultLanOptions()).Validate().ok());
  EXPECT_TRUE(Named(DefaultLocalOptions()).Validate().ok());
  EXPECT_LT(DefaultLocalOptions().gossip_interval, DefaultLanOptions().gossip_interval);
}

TEST(OptionsTest, ZeroIntervalsMeanOff) {
  Options options = Named(DefaultLanOptions());
  options.gossip_interval = std::chrono::milliseconds(0);
  options.probe_interval = std::chrono::milliseconds(0);
  EXPECT_TRUE(options.Validate().ok());
}

TEST(OptionsTest, EachInvalidFieldIsNamedWithItsRange) {
  using std::chrono::milliseconds;
  const std::vector<std::pair<std::string, std::function<void(Options&)>>> cases = {
      {"node_id", [](Options& o) { o.node_id.clear(); }},
      {"role", [](Options& o) { o.role = "leader"; }},
      {"gossip_interval", [](Options& o) { o.gossip_interval = milliseconds(-1); }},
      {"gossip_jitter", [](Options& o) { o.gossip_jitter = 1.0; }},
      {"exchange_timeout", [](Options& o) { o.exchange_timeout = milliseconds(0); }},
      {"probe_interval", [](Options& o) { o.probe_interval = milliseconds(-5); }},
      {"probe_timeout", [](Options& o) { o.probe_timeout = milliseconds(0); }},
      {"dead_after_failures", [](Options& o) { o.dead_after_failures = 0; }},
      {"retry_backoff_base", [](Options& o) { o.retry_backoff_base = milliseconds(0); }},
      {"retry_backoff_max", [](Options& o) { o.retry_backoff_max = milliseconds(10); }},
      {"max_frame_bytes", [](Options& o) { o.max_frame_bytes = 10; }},
      {"max_inbound_connections", [](Options& o) { o.max_inbound_connections = 0; }},
      {"max_connections_per_host", [](Options& o) { o.max_connections_per_host = 0; }},
      // Longer than a peer may send (frame_format.h kMaxIdBytes): its peers would refuse it.
      {"node_id", [](Options& o) { o.node_id = std::string(kMaxIdBytes + 1, 'n'); }},
      // Every node must read fp32: older builds and out-of-range models send only that.
      {"codecs", [](Options& o) { o.codecs = {ModelCodec::kInt8}; }},
      {"codecs", [](Options& o) { o.codecs = {ModelCodec::kFp32, static_cast<ModelCodec>(9)}; }},
      {"codecs", [](Options& o) { o.codecs.clear(); }},
      {"max_upload_kbps", [](Options& o) { o.max_upload_kbps = -1; }},
      {"max_upload_kbps", [](Options& o) { o.max_upload_kbps = NAN; }},
      {"flow", [](Options& o) { o.flow = static_cast<FlowControl>(7); }},
      {"token_capacity", [](Options& o) { o.token_capacity = 0; }},
      {"token_capacity", [](Options& o) { o.token_capacity = kMaxTokenCapacity + 1; }},
      {"token_reactivity", [](Options& o) { o.token_reactivity = 0; }},
      {"token_reactivity", [](Options& o) { o.token_reactivity = o.token_capacity + 1; }},
  };
  for (const auto& [field, spoil] : cases) {
    Options options = Named(DefaultLanOptions());
    spoil(options);
    const Status status = options.Validate();
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << field;
    EXPECT_NE(status.message().find(field), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("must be"), std::string::npos) << status.message();
  }
}

}  // namespace
}  // namespace gl::gossip
