#include "node/node.h"

#include <pthread.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/dir_lock.h"
#include "common/host_port.h"
#include "common/log.h"
#include "common/thread_priority.h"
#include "discovery/discovery.h"
#include "gossip/wire/codec.h"
#include "gossip/engine.h"
#include "gossip/wire/frame_format.h"
#include "gossip/rounds/round_participant.h"
#include "gossip/wire/tcp_transport.h"
#include "nn/hash.h"
#include "nn/split.h"
#include "node/checkpoint.h"
#include "node/coordinator.h"
#include "node/node_round_worker.h"
#include "node/options_from_config.h"
#include "node/shared_model.h"
#include "node/status_report.h"
#include "node/status_server.h"
#include "node/training_loop.h"

namespace gl::node {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, signal);
  return set;
}

// Short stable hash of the model signature, published in mDNS TXT records. Peers compare it
// verbatim, so its seed (not FNV's standard offset basis) stays what earlier builds published.
std::string SignatureHash(const std::string& signature) {
  constexpr std::uint64_t kPublishedSeed = 1469598103934665603ull;
  const std::uint64_t h = nn::Fnv1a64(signature, kPublishedSeed);
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return std::string(out, 12);
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "node";
  return name;
}

// The port of the transport's bound address (which is always HOST:PORT).
std::uint16_t PortOf(const std::string& host_port) {
  Result<HostPort> parsed = ParseHostPort(host_port, PortZero::kAllowed);
  return parsed.ok() ? parsed->port : 0;
}

// The cluster key from config.key_file; without one, the single warning that the node runs open.
Result<std::optional<gossip::ClusterKey>> LoadKey(const Config& c) {
  if (c.key_file.empty()) {
    GL_LOG(kWarn, "node") << "running open: no key_file, so anyone who can reach " << c.listen
                          << " can read this node's model and offer it poisoned ones; create a key with "
                             "`gossip-learner keygen --out FILE` and pass --key-file FILE to every node";
    return std::optional<gossip::ClusterKey>();
  }
  Result<gossip::ClusterKey> key = gossip::LoadClusterKey(c.key_file);
  if (!key.ok()) return key.status();
  GL_LOG(kInfo, "node") << "cluster key loaded: frames are authenticated"
                        << (c.encrypt ? " and encrypted" : ", not encrypted (encrypt = false)");
  return std::optional<gossip::ClusterKey>(*key);
}

struct LocalData {
  nn::Dataset train, validation;
  std::optional<nn::Dataset> eval;
};

Result<LocalData> LoadLocalData(const Config& c) {
  Result<nn::Dataset> data = nn::LoadDataset(c.data);
  if (!data.ok()) return data.status();
  if (data->examples.size() < 10) {
    return Status::InvalidArgument(c.data + " holds only " + std::to_string(data->examples.size()) +
                                   " names; a node needs at least 10 to train and validate");
  }
  LocalData local;
  std::tie(local.train, local.validation) = nn::TrainValidationSplit(*data, c.validation_fraction, c.seed);
  if (!c.eval_data.empty()) {
    Result<nn::Dataset> eval = nn::LoadDataset(c.eval_data);
    if (!eval.ok()) return eval.status();
    local.eval = std::move(eval).value();
  }
  return local;
}

class NodeImpl : public Node {
 public:
  NodeImpl(const Config& config, std::unique_ptr<DirLock> state_lock, LocalData data,
           std::unique_ptr<nn::Model> model, CheckpointMeta start, const gossip::Options& gossip_options,
           std::unique_ptr<gossip::TcpTransport> transport, std::unique_ptr<asio::io_context> io)
      : config_(config),
        state_lock_(std::move(state_lock)),
        io_(std::move(io)),
        transport_(std::move(transport)),
        id_(gossip_options.node_id),
        signature_(model->Signature()),
        checkpointer_(config.state_dir),
        shared_(gossip::ModelSnapshot{signature_, model->GetParameters(), start.age, data.train.examples.size()}),
        engine_(*io_, gossip_options, *transport_, shared_),
        status_server_(*io_, config.StatusSocketPath(), [this] { return Render(); }),
        signals_(*io_, SIGINT, SIGTERM),
        started_(std::chrono::steady_clock::now()) {
    TrainingLoopOptions training = TrainingLoopOptionsFor(config);
    training.on_interval_stretch = [this](double factor) { engine_.SetIntervalStretch(factor); };
    training_ = std::make_unique<TrainingLoop>(std::move(model), std::move(data.train), std::move(data.validation),
                                               std::move(data.eval), shared_, checkpointer_, std::move(training),
                                               start);
    round_worker_ = std::make_unique<NodeRoundWorker>(*training_, config.state_dir);
  }

  Status Prepare() {
    Status s = status_server_.Start();
    if (!s.ok()) return s;
    s = engine_.Start();
    if (!s.ok()) return s;
    s = PrepareRounds();
    if (!s.ok()) return s;
    if (config_.discovery != DiscoveryMode::kMdns) discoveries_.push_back(discovery::MakeStaticDiscovery(config_.peers));
    if (config_.discovery != DiscoveryMode::kStatic) {
      discovery::Options d;
      d.node_id = id_;
      d.cluster = config_.cluster;
      d.port = PortOf(transport_->LocalAddress());
      d.signature_hash = SignatureHash(signature_);
      d.role = NameOf(config_.role);
      d.protocol_version = gossip::kProtocolVersion;  // peers on another wire version are skipped
      discoveries_.push_back(discovery::MakeAvahiDiscovery(d));
    }
    return Status::Ok();
  }

  int Run() override {
    SetLogPrefix(id_);
    GL_LOG(kInfo, "node") << "listening on " << transport_->LocalAddress() << ", status on "
                          << config_.StatusSocketPath() << ", model " << signature_;
    // A closed terminal or SSH session (SIGHUP) stops the node like SIGTERM, checkpoint
    // included, unless it was started with SIGHUP ignored (nohup) to outlive the session.
    struct sigaction hup {};
    if (::sigaction(SIGHUP, nullptr, &hup) == 0 && hup.sa_handler != SIG_IGN) signals_.add(SIGHUP);
    signals_.async_wait([this](asio::error_code ec, int signal) {
      if (ec) return;
      GL_LOG(kInfo, "node") << "signal " << signal << " (" << ::strsignal(signal)
                            << "): saving a checkpoint and shutting down";
      Shutdown();
    });
    const sigset_t stop = StopSignals();
    ::pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);  // one held since HoldStopSignals() arrives now
    training_->Start();
    for (auto& d : discoveries_) {
      Status s = d->Start([this](const discovery::PeerEvent& e) { OnPeerEvent(e); });
      if (!s.ok()) GL_LOG(kWarn, "discovery") << s.ToString();
    }
    // Started above, the training thread (and discovery's) keep their priority.
    if (Status s = LowerThisThreadPriority(config_.io_nice); !s.ok()) {
      GL_LOG(kWarn, "node") << "network thread keeps the training thread's priority (io_nice " << config_.io_nice
                            << " not applied: " << s.ToString() << "); a flood of frames can then slow training";
    }
    io_->run();
    training_->Stop();  // saves the final checkpoint
    GL_LOG(kInfo, "node") << "stopped; checkpoint in " << config_.state_dir;
    return 0;
  }

 private:
  // Coordinator mode: a coordinator runs rounds; every other node serves them.
  Status PrepareRounds() {
    if (config_.role != Role::kCoordinator) {
      gossip::ParticipantOptions p{id_, signature_, shared_.Snapshot().params.size(), Ms(config_.failover_timeout_s),
                                   Ms(config_.round_deadline_s), config_.max_update_norm};
      participant_ = std::make_unique<gossip::RoundParticipant>(*io_, p, engine_, *round_worker_);
      participant_->Start();
      return Status::Ok();
    }
    Result<std::unique_ptr<Coordinator>> coordinator =
        Coordinator::Create(*io_, config_, id_, transport_->LocalAddress(), signature_, shared_.Snapshot().params,
                            engine_, *transport_, *round_worker_);
    if (!coordinator.ok()) return coordinator.status();
    coordinator_ = std::move(coordinator).value();
    training_->SetFederated(true, {});  // the coordinator's model only evaluates (and trains in rounds)
    coordinator_->Start();
    return Status::Ok();
  }

  // Called on a discovery thread: hand the event to the io thread.
  void OnPeerEvent(const discovery::PeerEvent& event) {
    asio::post(*io_, [this, event] {
      if (event.kind == discovery::PeerEvent::Kind::kUp) {
        auto role = event.txt.find("role");
        if (role != event.txt.end() && role->second == "coordinator" && coordinator_) {
          coordinator_->NoteOtherCoordinator(event.id, event.address);
        }
        engine_.AddPeer(event.address, event.source, event.id);
      } else {
        engine_.RemovePeer(event.address, event.source);
      }
    });
  }

  void Shutdown() {
    status_server_.Stop();
    for (auto& d : discoveries_) d->Stop();
    if (coordinator_) coordinator_->Stop();
    if (participant_) participant_->Stop();
    engine_.Stop();
    transport_->Shutdown();
    signals_.cancel();
    io_->stop();
  }

  std::string Render() {
    StatusInputs in;
    in.id = id_;
    in.cluster = config_.cluster;
    in.role = NameOf(config_.role);
    in.listen = transport_->LocalAddress();
    in.signature = signature_;
    in.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    in.training = training_->Progress();
    in.offers_dropped = shared_.offers_dropped();
    in.scored_model_path = checkpointer_.exported_path();
    in.params = shared_.Snapshot().params;
    in.engine = engine_.Stats();
    in.security = transport_->Security();
    in.authenticated = !config_.key_file.empty();
    in.peers = engine_.Peers();
    if (participant_) in.participant = participant_->Stats();
    if (coordinator_) in.rounds = coordinator_->Stats();
    in.global = round_worker_->Scores();
    return RenderStatus(in);
  }

  Config config_;
  std::unique_ptr<DirLock> state_lock_;  // held until the last checkpoint is written
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<gossip::TcpTransport> transport_;
  std::string id_;
  std::string signature_;
  Checkpointer checkpointer_;
  SharedModel shared_;
  gossip::Engine engine_;
  StatusServer status_server_;
  asio::signal_set signals_;
  std::vector<std::unique_ptr<discovery::Discovery>> discoveries_;
  std::unique_ptr<TrainingLoop> training_;
  std::unique_ptr<NodeRoundWorker> round_worker_;
  std::unique_ptr<gossip::RoundParticipant> participant_;  // role node
  std::unique_ptr<Coordinator> coordinator_;               // role coordinator
  std::chrono::steady_clock::time_point started_;
};

Result<std::pair<std::unique_ptr<nn::Model>, CheckpointMeta>> LoadOrCreateModel(const Config& c,
                                                                                const nn::Dataset& train) {
  nn::ModelOptions options;
  options.hidden_size = c.hidden;
  options.seed = c.seed;
  Result<std::unique_ptr<nn::Model>> fresh = nn::Model::Create(options);
  if (!fresh.ok()) return fresh.status();
  std::unique_ptr<nn::Model> model = std::move(fresh).value();
  CheckpointMeta meta;
  if (!c.fresh) {
    Result<LoadedCheckpoint> loaded = Checkpointer(c.state_dir).LoadNewest(model->Signature());
    if (loaded.ok()) {
      if (Status s = model->SetParameters(loaded->params); !s.ok()) return s;
      GL_LOG(kInfo, "node") << "resuming from " << loaded->path << " (age " << loaded->meta.age << ")";
      meta = loaded->meta;
    } else if (loaded.status().code() != Status::Code::kNotFound) {
      return loaded.status();
    }
  }
  model->SetTrainerOptions(TrainerOptionsFor(c));
  model->SetClassWeights(nn::CountPerLabel(train));
  return std::make_pair(std::move(model), meta);
}

}  // namespace

void HoldStopSignals() {
  const sigset_t stop = StopSignals();
  ::pthread_sigmask(SIG_BLOCK, &stop, nullptr);
}

Result<std::unique_ptr<Node>> Node::Create(const Config& config) {
  Status valid = config.Validate();
  if (!valid.ok()) return valid;
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (ec) return Status::IoError("cannot create state dir " + config.state_dir + ": " + ec.message());
  Result<std::unique_ptr<DirLock>> state_lock = DirLock::Acquire(config.state_dir);
  if (state_lock.status().code() == Status::Code::kUnavailable) {
    return Status::Unavailable("state dir " + state_lock.status().message() +
                               "; two nodes must not share one: give each its own --state-dir");
  }
  if (!state_lock.ok()) return state_lock.status();
  Result<int> leftovers = RemoveLeftoverTemporaries(config.state_dir);
  if (!leftovers.ok()) return leftovers.status();
  if (*leftovers > 0) {
    GL_LOG(kInfo, "node") << "removed " << *leftovers << " temporary file(s) that a crash left in " << config.state_dir;
  }

  Result<LocalData> data = LoadLocalData(config);
  if (!data.ok()) return data.status();
  auto model = LoadOrCreateModel(config, data->train);
  if (!model.ok()) return model.status();

  auto io = std::make_unique<asio::io_context>(1);
  gossip::Options gossip_options = GossipOptionsFor(config, model->first->ParameterCount());
  Result<std::optional<gossip::ClusterKey>> key = LoadKey(config);
  if (!key.ok()) return key.status();
  gossip_options.cluster_key = *key;
  Result<std::unique_ptr<gossip::TcpTransport>> transport =
      gossip::TcpTransport::Create(*io, config.listen, gossip::TransportOptions(gossip_options));
  if (!transport.ok()) return transport.status();
  gossip_options.node_id =
      config.id.empty() ? HostName() + "-" + std::to_string(PortOf((*transport)->LocalAddress())) : config.id;
  Status valid_gossip = gossip_options.Validate();
  if (!valid_gossip.ok()) return valid_gossip;

  auto node = std::make_unique<NodeImpl>(config, std::move(state_lock).value(), std::move(data).value(),
                                         std::move(model->first), model->second, gossip_options,
                                         std::move(transport).value(), std::move(io));
  Status s = node->Prepare();
  if (!s.ok()) return s;
  return std::unique_ptr<Node>(std::move(node));
}

}  // namespace gl::node
