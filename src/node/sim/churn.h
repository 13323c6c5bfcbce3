// The churn of a simulation: which nodes crash, leave or join when, partitions and their
// heal times, and each node's share of time online; parsed from simulate's flags.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace gl::node::sim {

struct ShareAt {
  double share = 0;  // of the nodes, (0, 1]
  double at_s = 0;   // virtual seconds since the start
};

struct Window {
  double from_s = 0;
  double to_s = 0;
};

struct ChurnPlan {
  std::vector<ShareAt> crashes;    // that share of the online nodes stops for good (no goodbye)
  std::vector<ShareAt> leaves;     // the same on the wire: a node that leaves just stops answering
  std::vector<ShareAt> joins;      // that share of all nodes is absent until then
  std::vector<Window> partitions;  // the nodes split into two random halves, healed at to_s
  double online_share = 1;         // < 1: each node alternates online and offline sessions
  double session_s = 300;          // mean online session (exponential); offline ones match online_share
};

// "SHARE@SECONDS", e.g. "0.2@60". `flag` names the flag in the error.
Result<ShareAt> ParseShareAt(const std::string& text, const std::string& flag);
// "FROM-TO" in seconds, e.g. "60-120".
Result<Window> ParseWindow(const std::string& text, const std::string& flag);

}  // namespace gl::node::sim
