// Prometheus text exposition (format 0.0.4) of a node's status document, for node_exporter's
// textfile collector: counters (`_total`) and gauges, each with its HELP and TYPE lines, every
// sample labelled with the node's id and cluster. Scalars only: no per-parameter samples, no
// per-peer series (peers are counted by state). Pure formatting.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace gl::node {

// The exposition of `status` (the JSON the status socket serves), with gossip_learner_up 1.
std::string PrometheusText(const nlohmann::json& status);

// What to expose when the node does not answer: gossip_learner_up 0 alone.
std::string PrometheusNodeDown();

}  // namespace gl::node
