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
  nn::Metrics m;
  m.accuracy = 0.8;
  m.macro_f1 = 0.5;
  in.training.validation = m;
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
                          "validation", "eval", "exchanges_ok", "exchanges_failed", "bytes_sent",
                          "bytes_received", "peers", "param_sample"}) {
    EXPECT_TRUE(doc.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(doc["validation"]["accuracy"].get<double>(), 0.8);
  EXPECT_TRUE(doc["eval"].is_null());
  EXPECT_EQ(doc["peers"][0]["found_by"], nlohmann::json({"mdns", "static"}));
  for (const char* key : {"id", "address", "state", "last_seen_s", "exchanges", "failures"}) {
    EXPECT_TRUE(doc["peers"][0].contains(key)) << key;
  }
  EXPECT_EQ(doc["param_sample"].size(), kParamSampleSize);
}

TEST(StatusReportTest, SmallModelsAreSampledWhole) {
  StatusInputs in;
  in.params = {1, 2, 3};
  nlohmann::json doc = nlohmann::json::parse(RenderStatus(in));
  EXPECT_EQ(doc["param_sample"], nlohmann::json({1.0, 2.0, 3.0}));
}

}  // namespace
}  // namespace gl::node
