// Static discovery: one kUp per distinct valid address, synchronously at Start.
#include <gtest/gtest.h>

#include "discovery/discovery.h"
#include "discovery_test_util.h"

namespace gl::discovery::testing {
namespace {

TEST(StaticDiscoveryTest, EmitsOneUpPerDistinctAddressAtStart) {
  EventRecorder recorder;
  auto discovery = MakeStaticDiscovery({"10.0.0.1:7001", "pi-2.local:7002", "10.0.0.1:7001"});
  ASSERT_TRUE(discovery->Start(recorder.Callback()).ok());
  const auto events = recorder.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].address, "10.0.0.1:7001");
  EXPECT_EQ(events[1].address, "pi-2.local:7002");
  for (const auto& event : events) {
    EXPECT_EQ(event.kind, PeerEvent::Kind::kUp);
    EXPECT_EQ(event.source, "static");
    EXPECT_EQ(event.id, "");
    EXPECT_EQ(event.service_name, "");
  }
  discovery->Stop();
  discovery->Stop();  // idempotent
  EXPECT_EQ(recorder.Events().size(), 2u);
}

TEST(StaticDiscoveryTest, RejectsMalformedAddressAndEmitsNothing) {
  for (const char* bad :
       {"10.0.0.1", ":7001", "host:", "host:0", "host:65536", "host:7x", "127.0.0.1:7070:1", "fe80::1:7070"}) {
    EventRecorder recorder;
    auto discovery = MakeStaticDiscovery({"10.0.0.1:7001", bad});
    const Status status = discovery->Start(recorder.Callback());
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find(bad), std::string::npos) << status.message();
    EXPECT_TRUE(recorder.Events().empty()) << bad;
  }
}

TEST(StaticDiscoveryTest, EmptyListStartsWithoutEvents) {
  EventRecorder recorder;
  auto discovery = MakeStaticDiscovery({});
  EXPECT_TRUE(discovery->Start(recorder.Callback()).ok());
  EXPECT_TRUE(recorder.Events().empty());
}

}  // namespace
}  // namespace gl::discovery::testing
