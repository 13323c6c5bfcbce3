#include "node/status_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace gl::node {
namespace {

// One row of docs/ARCHITECTURE.md "Status document": a key path ("a", "a.b", "a[].b") and the
// documents it is in ("all", "participant", "coordinator").
struct DocumentedKey {
  std::string path;
  std::string in;
};

std::vector<DocumentedKey> DocumentedKeys() {
  std::ifstream doc(std::string(GL_SOURCE_DIR) + "/docs/ARCHITECTURE.md");
  const std::regex row(R"(^\| `([^`]+)` \| (all|participant|coordinator) \|)");
  std::vector<DocumentedKey> keys;
  bool in_section = false;
  for (std::string line; std::getline(doc, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Status document";
    std::smatch match;
    if (in_section && std::regex_search(line, match, row)) keys.push_back({match[1], match[2]});
  }
  return keys;
}

// The value at `path` (a list's first element for "[]"), or nullptr if it is not there.
const nlohmann::json* Find(const nlohmann::json& doc, const std::string& path) {
  const nlohmann::json* at = &doc;
  std::istringstream parts(path);
  for (std::string part; std::getline(parts, part, '.');) {
    const bool element = part.size() > 2 && part.ends_with("[]");
    if (element) part.resize(part.size() - 2);
    if (!at->is_object() || !at->contains(part)) return nullptr;
    at = &(*at)[part];
    if (element) {
      if (!at->is_array() || at->empty()) return nullptr;
      at = &(*at)[0];
    }
  }
  return at;
}

// Every key path in `value`, descending into the objects and lists whose members are documented
// one by one (not into maps keyed by peer or host).
void CollectKeys(const nlohmann::json& value, const std::string& prefix, const std::set<std::string>& documented,
                 std::set<std::string>& keys) {
  auto details = [&](const std::string& path) {
    const auto it = documented.lower_bound(path);
    return it != documented.end() && it->rfind(path, 0) == 0;
  };
  for (const auto& [key, member] : value.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    keys.insert(path);
    if (member.is_object() && details(path + ".")) CollectKeys(member, path, documented, keys);
    if (member.is_array() && !member.empty() && details(path + "[].")) {
      CollectKeys(member[0], path + "[]", documented, keys);
    }
  }
}

// Inputs with every optional part filled in, so that every key can appear.
StatusInputs FullInputs() {
  StatusInputs in;
  in.id = "pi-1";
  nn::Metrics m;
  m.accuracy = 0.8;
  in.training.validation = m;
  in.training.eval = m;
  in.params.assign(10, 1.0f);
  in.engine.rejected_by_peer = {{"evil@10.0.0.9", 3}};
  in.security.auth_failures = {{"10.0.0.9", 2}};
  gossip::PeerStatus peer;
  peer.id = "pi-2";
  peer.address = "10.0.0.2:7070";
  peer.sources = {"mdns"};
  in.peers.push_back(peer);
  return in;
}

TEST(StatusReportTest, EveryDocumentedKeyIsInTheDocumentAndEveryKeyIsDocumented) {
  const std::vector<DocumentedKey> documented = DocumentedKeys();
  ASSERT_GT(documented.size(), 50u) << "no \"Status document\" table found in docs/ARCHITECTURE.md";
  StatusInputs participant = FullInputs();
  participant.participant = gossip::ParticipantStats{};
  StatusInputs coordinator = FullInputs();
  coordinator.role = "coordinator";
  coordinator.rounds = gossip::RoundStats{};
  coordinator.rounds->rejected_by_peer = {{"p@10.0.0.3", 1}};
  coordinator.global.metrics = nn::Metrics{};
  const std::map<std::string, nlohmann::json> docs = {{"participant", nlohmann::json::parse(RenderStatus(participant))},
                                                      {"coordinator", nlohmann::json::parse(RenderStatus(coordinator))}};
  std::set<std::string> paths;
  for (const DocumentedKey& key : documented) paths.insert(key.path);
  for (const auto& [kind, doc] : docs) {
    std::set<std::string> allowed;
    for (const DocumentedKey& key : documented) {
      if (key.in != "all" && key.in != kind) continue;
      allowed.insert(key.path);
      EXPECT_NE(Find(doc, key.path), nullptr) << "documented but not in a " << kind << "'s status: " << key.path;
    }
    std::set<std::string> produced;
    CollectKeys(doc, "", paths, produced);
    for (const std::string& path : produced) {
      EXPECT_TRUE(allowed.contains(path)) << "in a " << kind << "'s status but not documented for it: " << path;
    }
  }
}

TEST(StatusReportTest, RendersTheValuesGiven) {
  StatusInputs in = FullInputs();
  in.offers_dropped = 7;
  in.training.eval.reset();
  in.training.scored_age = 90;
  in.training.scored_smoothed = true;
  in.training.scored_saved = true;
  in.scored_model_path = "gl-state/model.bin";
  in.params.assign(5000, 1.0f);
  in.peers[0].state = gossip::PeerState::kIncompatible;
  in.peers[0].sources = {"mdns", "static"};
  in.engine.upload_bytes_per_s = 1234.5;
  in.peers[0].codec = "int8";
  in.peers[0].flow = "push";

  nlohmann::json doc = nlohmann::json::parse(RenderStatus(in));
  EXPECT_EQ(doc["offers_dropped"], 7);
  EXPECT_DOUBLE_EQ(doc["validation"]["accuracy"].get<double>(), 0.8);
  EXPECT_TRUE(doc["eval"].is_null());
  EXPECT_EQ(doc["scored_model"], nlohmann::json({{"path", "gl-state/model.bin"}, {"age", 90}, {"weights", "smoothed"},
                                                 {"saved", true}}));
  EXPECT_EQ(doc["peers"][0]["found_by"], nlohmann::json({"mdns", "static"}));
  EXPECT_EQ(doc["peers"][0]["state"], "incompatible");
  EXPECT_EQ(doc["peers"][0]["codec"], "int8");
  EXPECT_EQ(doc["peers"][0]["flow"], "push");
  EXPECT_DOUBLE_EQ(doc["upload_bytes_per_s"].get<double>(), 1234.5);
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
    peer.state = gossip::PeerState::kAlive;
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
