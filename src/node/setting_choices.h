// The settings whose value is one of a few names, as enums: the names are parsed once (config
// file or flag) and the rest of the node switches on the enum. ChoiceList<E>::kItems lists each
// value with the name users type; NameOf / ParseChoice / ChoiceNames read it.
#pragma once

#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gl::node {

enum class Role { kNode, kCoordinator };
enum class DiscoveryMode { kMdns, kStatic, kBoth };
enum class MergeChoice { kAgeWeighted, kAverage, kTrimmedMean };
enum class StrategyChoice { kFedNova, kFedAvg, kTrimmedMean };
enum class ServerOptimizerChoice { kSgd, kAdam };
enum class ClientOptimizerChoice { kAdam, kSgd };
enum class FlowChoice { kPushPull, kPush, kTokenAccount };

template <typename E>
struct ChoiceList;

template <>
struct ChoiceList<Role> {
  static constexpr std::pair<Role, std::string_view> kItems[] = {{Role::kNode, "node"},
                                                                 {Role::kCoordinator, "coordinator"}};
};
template <>
struct ChoiceList<DiscoveryMode> {
  static constexpr std::pair<DiscoveryMode, std::string_view> kItems[] = {
      {DiscoveryMode::kMdns, "mdns"}, {DiscoveryMode::kStatic, "static"}, {DiscoveryMode::kBoth, "both"}};
};
template <>
struct ChoiceList<MergeChoice> {
  static constexpr std::pair<MergeChoice, std::string_view> kItems[] = {{MergeChoice::kAgeWeighted, "age-weighted"},
                                                                        {MergeChoice::kAverage, "average"},
                                                                        {MergeChoice::kTrimmedMean, "trimmed-mean"}};
};
template <>
struct ChoiceList<StrategyChoice> {
  static constexpr std::pair<StrategyChoice, std::string_view> kItems[] = {{StrategyChoice::kFedNova, "fednova"},
                                                                           {StrategyChoice::kFedAvg, "fedavg"},
                                                                           {StrategyChoice::kTrimmedMean, "trimmed-mean"}};
};
template <>
struct ChoiceList<ServerOptimizerChoice> {
  static constexpr std::pair<ServerOptimizerChoice, std::string_view> kItems[] = {
      {ServerOptimizerChoice::kSgd, "sgd"}, {ServerOptimizerChoice::kAdam, "adam"}};
};
template <>
struct ChoiceList<ClientOptimizerChoice> {
  static constexpr std::pair<ClientOptimizerChoice, std::string_view> kItems[] = {
      {ClientOptimizerChoice::kAdam, "adam"}, {ClientOptimizerChoice::kSgd, "sgd"}};
};

template <>
struct ChoiceList<FlowChoice> {
  static constexpr std::pair<FlowChoice, std::string_view> kItems[] = {
      {FlowChoice::kPushPull, "push-pull"}, {FlowChoice::kPush, "push"}, {FlowChoice::kTokenAccount, "token-account"}};
};

template <typename E>
std::string NameOf(E value) {
  for (const auto& [item, name] : ChoiceList<E>::kItems) {
    if (item == value) return std::string(name);
  }
  return "?";
}

template <typename E>
std::optional<E> ParseChoice(std::string_view text) {
  for (const auto& [item, name] : ChoiceList<E>::kItems) {
    if (name == text) return item;
  }
  return std::nullopt;
}

// "a, b, c": the valid names, for errors and --help.
template <typename E>
std::string ChoiceNames() {
  std::string names;
  for (const auto& [item, name] : ChoiceList<E>::kItems) names += (names.empty() ? "" : ", ") + std::string(name);
  return names;
}

}  // namespace gl::node
