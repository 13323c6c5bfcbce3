// TXT contents, the peer filter and the Avahi string-list conversion.
#include "discovery/txt_record.h"

#include <gtest/gtest.h>

namespace gl::discovery {
namespace {

using std::string_literals::operator""s;  // GCC 12 -Wrestrict false positive on = "literal"

Options Ours() {
  Options options;
  options.node_id = "a"s;
  options.cluster = "lab"s;
  options.signature_hash = "s1"s;
  options.protocol_version = 2;
  return options;
}

Options Other(const std::string& id) {
  Options options = Ours();
  options.node_id = id;
  return options;
}

TEST(TxtRecordTest, ServiceNameDefaultsToNodeIdAndFitsOneLabel) {
  EXPECT_EQ(ServiceName(Ours()), "gossip-learner a");
  Options named = Ours();
  named.service_name = "pi-7";
  EXPECT_EQ(ServiceName(named), "pi-7");
  named.service_name = std::string(70, 'x');
  EXPECT_EQ(ServiceName(named), std::string(63, 'x'));
  named.service_name = std::string(62, 'x') + "\xc3\xa9tude";  // the 2-byte 'e acute' would straddle byte 63
  EXPECT_EQ(ServiceName(named), std::string(62, 'x'));
}

TEST(TxtRecordTest, PublishesAllKeys) {
  Options coordinator = Ours();
  coordinator.role = "coordinator"s;
  EXPECT_EQ(MakeTxt(coordinator),
            (TxtMap{{"id", "a"}, {"proto", "2"}, {"sig", "s1"}, {"cluster", "lab"}, {"role", "coordinator"}}));
}

TEST(TxtRecordTest, AcceptsPeerOfSameClusterProtocolAndSignature) {
  EXPECT_EQ(SkipReason(Ours(), MakeTxt(Other("b"))), "");
}

TEST(TxtRecordTest, SkipsOwnServiceAndMissingId) {
  EXPECT_EQ(SkipReason(Ours(), MakeTxt(Ours())), "own service");
  EXPECT_EQ(SkipReason(Ours(), MakeTxt(Other(""))), "no id");
}

TEST(TxtRecordTest, SkipsOtherClusterProtocolOrSignature) {
  Options cluster = Other("b");
  cluster.cluster = "prod";
  EXPECT_EQ(SkipReason(Ours(), MakeTxt(cluster)), "cluster 'prod'");
  Options proto = Other("b");
  proto.protocol_version = 3;
  EXPECT_EQ(SkipReason(Ours(), MakeTxt(proto)), "protocol '3'");
  Options sig = Other("b");
  sig.signature_hash = "s2";
  EXPECT_EQ(SkipReason(Ours(), MakeTxt(sig)), "signature 's2'");
  TxtMap missing = MakeTxt(Other("b"));
  missing.erase("cluster");
  EXPECT_EQ(SkipReason(Ours(), missing), "cluster ''");
}

TEST(TxtRecordTest, AvahiListRoundTripsIncludingEmptyValues) {
  Options no_role = Other("b");
  no_role.role = ""s;
  const TxtMap txt = MakeTxt(no_role);
  AvahiStringList* list = ToAvahiTxt(txt);
  EXPECT_EQ(FromAvahiTxt(list), txt);
  avahi_string_list_free(list);
}

TEST(TxtRecordTest, KeyWithoutValueMapsToEmpty) {
  AvahiStringList* list = avahi_string_list_new("flag", "k=v", nullptr);
  EXPECT_EQ(FromAvahiTxt(list), (TxtMap{{"flag", ""}, {"k", "v"}}));
  avahi_string_list_free(list);
}

}  // namespace
}  // namespace gl::discovery
