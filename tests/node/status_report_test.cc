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
  in.engine.upload_bytes_per_s = 1234.5;
  gossip::PeerStatus peer;
  peer.id = "pi-2";
  peer.address = "10.0.0.2:7070";
  peer.state = "alive";
  peer.sources = {"mdns", "static"};
  peer.codec = "int8";
  in.peers.push_back(peer);

  nlohmann::json doc = nlohmann::json::parse(RenderStatus(in));
  for (const char* key : {"id", "cluster", "role", "uptime_s", "listen", "signature", "model_age", "epochs", "train_loss",
                          "merges", "merges_clipped", "merges_dropped", "offers_dropped", "clip_radius",
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
  EXPECT_EQ(doc["peers"][0]["codec"], "int8");
  EXPECT_DOUBLE_EQ(doc["upload_bytes_per_s"].get<double>(), 1234.5);
  for (const char* key : {"id", "address", "state", "last_seen_s", "exchanges", "failures"}) {
    EXPECT_TRUE(doc["peers"][0].contains(key)) << key;
  }
  EXPECT_EQ(doc["param_sample"].size(), kParamSampleSize);
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
