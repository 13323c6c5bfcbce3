#include "node/status_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gl::node {
namespace {

TEST(StatusReportTest, HasEveryDocumentedField) {
  StatusInputs in;
  in.id = "pi-1";
  in.cluster = "lab";
  in.role = "node";
  in.listen = "0.0.0.0:7070";
  in.signature = "gru1/h128";
  in.training.model_age = 99;
  in.offers_dropped = 7;
  nn::Metrics m;
  m.accuracy = 0.8;
  m.macro_f1 = 0.5;
  in.training.validation = m;
  in.training.scored_age = 90;
  in.training.scored_smoothed = true;
  in.training.scored_saved = true;
  in.scored_model_path = "gl-state/model.bin";
  in.params.assign(5000, 1.0f);
  in.engine.bytes_sent = 10;
  gossip::PeerStatus peer;
  peer.id = "pi-2";
  peer.address = "10.0.0.2:7070";
  peer.state = "alive";
  peer.sources = {"mdns", "static"};
  in.peers.push_back(peer);

  nlohmann::json doc = nlohmann::json::parse(RenderStatus(in));
  for (const char* key : {"id", "cluster", "role", "uptime_s", "listen", "signature", "model_age", "epochs", "train_loss",
                          "merges", "merges_clipped", "merges_capped", "merges_dropped", "offers_dropped",
                          "clip_radius", "rejected_updates", "rejected_too_far", "rejected_by_peer", "update_norm_max",
                          "validation", "eval", "exchanges_ok", "exchanges_failed", "bytes_sent",
                          "bytes_received", "peers", "param_sample"}) {
    EXPECT_TRUE(doc.contains(key)) << key;
  }
  EXPECT_EQ(doc["offers_dropped"], 7);
  EXPECT_DOUBLE_EQ(doc["validation"]["accuracy"].get<double>(), 0.8);
  EXPECT_TRUE(doc["eval"].is_null());
  EXPECT_EQ(doc["scored_model"], nlohmann::json({{"path", "gl-state/model.bin"}, {"age", 90}, {"weights", "smoothed"},
                                                 {"saved", true}}));
  EXPECT_EQ(doc["peers"][0]["found_by"], nlohmann::json({"mdns", "static"}));
  for (const char* key : {"id", "address", "state", "last_seen_s", "exchanges", "failures"}) {
    EXPECT_TRUE(doc["peers"][0].contains(key)) << key;
  }
  EXPECT_EQ(doc["param_sample"].size(), kParamSampleSize);
}

// A received model is refused either by the engine's cheap checks or by the training thread's
// MergePolicy; the status counts both in one place, with the merge counters beside them.
TEST(StatusReportTest, MergeCountersComeFromTheEngineAndTheMergePolicyTogether) {
  StatusInputs in;
  in.engine.rejected_updates = 2;
  in.engine.rejected_by_peer = {{"nan@10.0.0.9", 2}};
  in.training.merge.refused_too_far = 3;
  in.training.merge.refused_by_peer = {{"scaled@10.0.0.8", 3}};
  in.training.merge.merged = 5;
  in.training.merge.clipped = 4;
  in.training.merge.capped = 1;
  in.training.merge.dropped = 6;
  in.training.merge.clip_radius = 1.5;
  in.training.merge.update_norm_max = 9.5;
  nlohmann::json doc = nlohmann::json::parse(RenderStatus(in));
  EXPECT_EQ(doc["rejected_updates"], 5);
  EXPECT_EQ(doc["rejected_too_far"], 3);
  EXPECT_EQ(doc["rejected_by_peer"], nlohmann::json({{"nan@10.0.0.9", 2}, {"scaled@10.0.0.8", 3}}));
  EXPECT_EQ(doc["merges"], 5);
  EXPECT_EQ(doc["merges_clipped"], 4);
  EXPECT_EQ(doc["merges_capped"], 1);
  EXPECT_EQ(doc["merges_dropped"], 6);
  EXPECT_DOUBLE_EQ(doc["clip_radius"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(doc["update_norm_max"].get<double>(), 9.5);
}

// However many peers a node was told about, the document lists a bounded number of them
// and stays small (it is rendered on the io thread for every status client).
TEST(StatusReportTest, PeerListIsCappedAndCounted) {
  StatusInputs in;
  for (int i = 0; i < 5000; ++i) {
    gossip::PeerStatus peer;
    peer.id = std::string(128, 'p') + std::to_string(i);
    peer.address = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":7070";
    peer.state = "alive";
    in.peers.push_back(peer);
  }
  const std::string text = RenderStatus(in);
  nlohmann::json doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["peers"].size(), kMaxStatusPeers);
  EXPECT_EQ(doc["peers_total"].get<std::size_t>(), 5000u);
  EXPECT_LT(text.size(), 100000u);
}

TEST(StatusReportTest, SmallModelsAreSampledWhole) {
  StatusInputs in;
  in.params = {1, 2, 3};
  nlohmann::json doc = nlohmann::json::parse(RenderStatus(in));
  EXPECT_EQ(doc["param_sample"], nlohmann::json({1.0, 2.0, 3.0}));
}

}  // namespace
}  // namespace gl::node
