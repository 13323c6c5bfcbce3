// Update screening: what a node refuses before any merge, against hand-made models.
#include "gossip/merge/update_screen.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gossip/merge/merge.h"

namespace gl::gossip {
namespace {

ModelSnapshot Remote(std::vector<float> params) { return ModelSnapshot{"sig", std::move(params), 10, 10}; }

TEST(ScreenUpdateTest, RefusesNonFiniteWrongSignatureAndWrongLength) {
  const std::vector<float> local{1.0f, 1.0f};
  EXPECT_FALSE(ScreenUpdate(Remote({NAN, 1.0f}), "sig", local, 200, kGossipUpdateToModelNorm).ok());
  EXPECT_FALSE(ScreenUpdate(Remote({1.0f, 1.0f}), "other", local, 200, kGossipUpdateToModelNorm).ok());
  EXPECT_FALSE(ScreenUpdate(Remote({1.0f}), "sig", local, 200, kGossipUpdateToModelNorm).ok());
}

TEST(ScreenUpdateTest, ReportsTheDistanceOfAnAcceptedModel) {
  double norm = 0;
  EXPECT_TRUE(ScreenUpdate(Remote({4.0f, 5.0f}), "sig", {1.0f, 1.0f}, 200, kGossipUpdateToModelNorm, &norm).ok());
  EXPECT_DOUBLE_EQ(norm, 5.0);
}

TEST(ScreenUpdateTest, BeyondTheAbsoluteBoundOnlyWithinFourTimesTheLocalNorm) {
  const std::vector<float> small{0.0f, 1.0f};  // norm 1: the absolute bound 10 decides
  EXPECT_TRUE(ScreenUpdate(Remote({0.0f, 10.0f}), "sig", small, 10, kGossipUpdateToModelNorm).ok());    // 9 away
  EXPECT_FALSE(ScreenUpdate(Remote({0.0f, 12.0f}), "sig", small, 10, kGossipUpdateToModelNorm).ok());   // 11 away
  const std::vector<float> large{30.0f, 40.0f};  // norm 50: up to 200 away passes
  EXPECT_TRUE(ScreenUpdate(Remote({-60.0f, -80.0f}), "sig", large, 10, kGossipUpdateToModelNorm).ok());  // x-2: 150 away
  EXPECT_FALSE(ScreenUpdate(Remote({180.0f, 240.0f}), "sig", large, 10, kGossipUpdateToModelNorm).ok());  // x6: 250 away
  EXPECT_FALSE(ScreenUpdate(Remote({30000.0f, 40000.0f}), "sig", large, 10, kGossipUpdateToModelNorm).ok());  // x1000
}

TEST(ScreenUpdateTest, RatioZeroKeepsTheAbsoluteBoundAlone) {
  const std::vector<float> large{30.0f, 40.0f};
  EXPECT_FALSE(ScreenUpdate(Remote({-60.0f, -80.0f}), "sig", large, 10, 0).ok());  // 150 away
}

TEST(ScreenUpdateTest, ZeroMeansNoBound) {
  EXPECT_TRUE(ScreenUpdate(Remote({1e30f, 1e30f}), "sig", {1.0f, 1.0f}, 0, kGossipUpdateToModelNorm).ok());
}

TEST(PeerKeyTest, KeysByTheHostOfTheAddressIpv6WithoutBrackets) {
  EXPECT_EQ(PeerKey("a", "127.0.0.1:7070"), "a@127.0.0.1");
  EXPECT_EQ(PeerKey("a", "[::1]:7070"), "a@::1");
  EXPECT_EQ(PeerKey("a", "[fe80::1%eth0]:7070"), "a@fe80::1%eth0");
  EXPECT_EQ(PeerKey("a", "in-memory-node"), "a@in-memory-node");  // not HOST:PORT: the address is the host
}

}  // namespace
}  // namespace gl::gossip
