// Avahi (mDNS/DNS-SD) discovery over libavahi-client with an AvahiThreadedPoll.
//
// Every Avahi object lives on the poll thread; public methods lock the poll. The client
// is created with AVAHI_CLIENT_NO_FAIL, so it waits for a missing daemon by itself; if
// the D-Bus bus itself is missing, avahi_client_new fails at once and a timer retries.
// When the daemon goes away (client FAILURE), a 0 ms timer frees the client (which frees
// the entry group, browser and resolvers) and creates a new one, which re-publishes and
// re-browses once RUNNING.
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/thread-watch.h>
#include <avahi-common/timeval.h>

#include <exception>
#include <set>
#include <utility>

#include "common/log.h"
#include "discovery/discovery.h"
#include "discovery/service_table.h"
#include "discovery/txt_record.h"

namespace gl::discovery {
namespace {

constexpr char kLog[] = "discovery";
constexpr char kUnreachable[] = "avahi-daemon not reachable: using static peers only";

std::string ClientError(AvahiClient* client) { return avahi_strerror(avahi_client_errno(client)); }

class AvahiDiscovery : public Discovery {
 public:
  explicit AvahiDiscovery(Options options)
      : options_(std::move(options)),
        service_name_(ServiceName(options_)) {}
  ~AvahiDiscovery() override { Stop(); }

  Status Start(Callback on_event) override;
  void Stop() override;

 private:
  // Everything below runs on the poll thread or with the poll locked.
  void Connect();
  void FreeClient();
  void Reconnect();
  void OnClientState(AvahiClient* client, AvahiClientState state);
  void OnGroupState(AvahiEntryGroup* group, AvahiEntryGroupState state);
  void OnBrowse(AvahiBrowserEvent event, AvahiIfIndex iface, const char* name, const char* domain);
  void OnResolve(AvahiServiceResolver* resolver, AvahiIfIndex iface, AvahiResolverEvent event,
                 const char* name, const char* host, const AvahiAddress* address, uint16_t port,
                 AvahiStringList* txt);
  void Publish();
  void Browse();
  void Rename();
  void Resolve(AvahiIfIndex iface, const std::string& name, const std::string& domain);
  void ForgetResolver(AvahiIfIndex iface, const std::string& name);
  void WarnUnreachable(const std::string& detail);
  AvahiTimeout* Arm(AvahiTimeout* timer, std::chrono::milliseconds delay, AvahiTimeoutCallback callback);
  void Emit(const std::vector<PeerEvent>& events);

  const Options options_;
  std::string service_name_;
  Callback on_event_;

  AvahiThreadedPoll* poll_ = nullptr;
  AvahiClient* client_ = nullptr;
  AvahiEntryGroup* group_ = nullptr;        // owned by client_
  AvahiServiceBrowser* browser_ = nullptr;  // owned by client_
  struct Resolver {
    AvahiServiceResolver* handle;  // owned by client_
    std::string domain;
    std::string host;  // SRV target and TXT id of the last result
    std::string id;
  };
  std::map<std::pair<AvahiIfIndex, std::string>, Resolver> resolvers_;  // per browsed service instance
  AvahiTimeout* reconnect_timer_ = nullptr;
  AvahiTimeout* deadline_timer_ = nullptr;

  ServiceTable table_;
  std::set<std::string> logged_skips_;  // "name\nreason", so each skip is logged once
  bool running_ = false;                // client is in AVAHI_CLIENT_S_RUNNING
  bool ever_running_ = false;
  bool warned_unreachable_ = false;
};

Status AvahiDiscovery::Start(Callback on_event) {
  if (poll_ != nullptr) return Status::InvalidArgument("avahi discovery already started");
  if (options_.node_id.empty()) return Status::InvalidArgument("avahi discovery needs a node id");
  poll_ = avahi_threaded_poll_new();
  if (poll_ == nullptr) return Status::Unavailable("avahi_threaded_poll_new failed");
  on_event_ = std::move(on_event);
  if (avahi_threaded_poll_start(poll_) < 0) {
    avahi_threaded_poll_free(poll_);
    poll_ = nullptr;
    return Status::Unavailable("cannot start the avahi poll thread");
  }
  avahi_threaded_poll_lock(poll_);
  deadline_timer_ = Arm(nullptr, options_.connect_timeout, [](AvahiTimeout*, void* self) {
    auto* discovery = static_cast<AvahiDiscovery*>(self);
    if (!discovery->running_) {
      discovery->WarnUnreachable("not running after " + std::to_string(discovery->options_.connect_timeout.count()) +
                                 " ms");
    }
  });
  Connect();
  avahi_threaded_poll_unlock(poll_);
  return Status::Ok();
}

void AvahiDiscovery::Stop() {
  if (poll_ == nullptr) return;
  avahi_threaded_poll_stop(poll_);  // joins the poll thread: no callback runs after this
  FreeClient();
  const AvahiPoll* api = avahi_threaded_poll_get(poll_);
  for (AvahiTimeout* timer : {reconnect_timer_, deadline_timer_}) {
    if (timer != nullptr) api->timeout_free(timer);
  }
  reconnect_timer_ = deadline_timer_ = nullptr;
  avahi_threaded_poll_free(poll_);
  poll_ = nullptr;
  table_.Clear();
  logged_skips_.clear();
  running_ = ever_running_ = warned_unreachable_ = false;
  on_event_ = nullptr;
}

void AvahiDiscovery::Connect() {
  int error = 0;
  // Callbacks may fire inside avahi_client_new (they get the client as an argument).
  AvahiClient* client = avahi_client_new(
      avahi_threaded_poll_get(poll_), AVAHI_CLIENT_NO_FAIL,
      [](AvahiClient* c, AvahiClientState state, void* self) {
        static_cast<AvahiDiscovery*>(self)->OnClientState(c, state);
      },
      this, &error);
  client_ = client;
  if (client != nullptr) return;
  // Without a D-Bus bus even NO_FAIL fails at once (AVAHI_ERR_NO_DAEMON): retry later.
  FreeClient();  // forgets whatever a callback inside avahi_client_new created
  WarnUnreachable(avahi_strerror(error));
  reconnect_timer_ = Arm(reconnect_timer_, options_.retry_interval,
                         [](AvahiTimeout*, void* self) { static_cast<AvahiDiscovery*>(self)->Reconnect(); });
}

void AvahiDiscovery::FreeClient() {
  if (client_ != nullptr) avahi_client_free(client_);  // also frees group, browser, resolvers
  client_ = nullptr;
  group_ = nullptr;
  browser_ = nullptr;
  resolvers_.clear();
  running_ = false;
}

void AvahiDiscovery::Reconnect() {
  FreeClient();
  Emit(table_.Clear());
  Connect();
}

void AvahiDiscovery::OnClientState(AvahiClient* client, AvahiClientState state) {
  client_ = client;
  switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
      running_ = true;
      if (warned_unreachable_ || ever_running_) {
        GL_LOG(kInfo, kLog) << "avahi-daemon reachable: mDNS discovery active";
      }
      ever_running_ = true;
      Publish();
      Browse();
      break;
    case AVAHI_CLIENT_S_COLLISION:  // host name collision: withdraw until RUNNING again
    case AVAHI_CLIENT_S_REGISTERING:
      running_ = false;
      if (group_ != nullptr) avahi_entry_group_reset(group_);
      break;
    case AVAHI_CLIENT_CONNECTING:  // bus is up, daemon is not; the client waits for it
      running_ = false;
      WarnUnreachable("daemon not running");
      break;
    case AVAHI_CLIENT_FAILURE:
      if (running_) {  // once per outage: not again while reconnecting
        GL_LOG(kWarn, kLog) << "avahi-daemon connection lost (" << ClientError(client) << "): reconnecting";
      } else {
        WarnUnreachable(ClientError(client));
      }
      running_ = false;
      // Never free the client inside its own callback: do it from a 0 ms timer.
      reconnect_timer_ = Arm(reconnect_timer_, std::chrono::milliseconds(0),
                             [](AvahiTimeout*, void* self) { static_cast<AvahiDiscovery*>(self)->Reconnect(); });
      break;
  }
}

void AvahiDiscovery::Publish() {
  if (options_.port == 0) return;  // browse only
  if (group_ == nullptr) {
    group_ = avahi_entry_group_new(
        client_,
        [](AvahiEntryGroup* g, AvahiEntryGroupState state, void* self) {
          static_cast<AvahiDiscovery*>(self)->OnGroupState(g, state);
        },
        this);
    if (group_ == nullptr) {
      GL_LOG(kError, kLog) << "cannot create entry group: " << ClientError(client_);
      return;
    }
  }
  if (!avahi_entry_group_is_empty(group_)) return;
  AvahiStringList* txt = ToAvahiTxt(MakeTxt(options_));
  int error = 0;
  while ((error = avahi_entry_group_add_service_strlst(group_, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                       AvahiPublishFlags(0), service_name_.c_str(), kServiceType,
                                                       nullptr, nullptr, options_.port, txt)) == AVAHI_ERR_COLLISION) {
    Rename();  // name taken locally (same daemon): the alternative name always differs
  }
  avahi_string_list_free(txt);
  if (error < 0 || (error = avahi_entry_group_commit(group_)) < 0) {
    GL_LOG(kError, kLog) << "cannot publish '" << service_name_ << "': " << avahi_strerror(error);
  }
}

void AvahiDiscovery::OnGroupState(AvahiEntryGroup* group, AvahiEntryGroupState state) {
  switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      GL_LOG(kInfo, kLog) << "published '" << service_name_ << "' " << kServiceType << " port " << options_.port;
      break;
    case AVAHI_ENTRY_GROUP_COLLISION:  // name taken by another host: rename and re-publish
      Rename();
      avahi_entry_group_reset(group);
      Publish();
      break;
    case AVAHI_ENTRY_GROUP_FAILURE:
      GL_LOG(kError, kLog) << "entry group failure: " << ClientError(avahi_entry_group_get_client(group));
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
      break;
  }
}

void AvahiDiscovery::Rename() {
  char* alternative = avahi_alternative_service_name(service_name_.c_str());
  GL_LOG(kInfo, kLog) << "service name '" << service_name_ << "' taken: renamed to '" << alternative << "'";
  service_name_ = alternative;
  avahi_free(alternative);
}

void AvahiDiscovery::Browse() {
  if (browser_ != nullptr) return;
  browser_ = avahi_service_browser_new(
      client_, AVAHI_IF_UNSPEC, AVAHI_PROTO_INET, kServiceType, nullptr, AvahiLookupFlags(0),
      [](AvahiServiceBrowser*, AvahiIfIndex iface, AvahiProtocol, AvahiBrowserEvent event, const char* name,
         const char*, const char* domain, AvahiLookupResultFlags, void* self) {
        static_cast<AvahiDiscovery*>(self)->OnBrowse(event, iface, name, domain);
      },
      this);
  if (browser_ == nullptr) {
    GL_LOG(kError, kLog) << "cannot browse " << kServiceType << ": " << ClientError(client_);
  }
}

void AvahiDiscovery::OnBrowse(AvahiBrowserEvent event, AvahiIfIndex iface, const char* name, const char* domain) {
  switch (event) {
    case AVAHI_BROWSER_NEW:
      if (!resolvers_.contains({iface, name})) Resolve(iface, name, domain);
      break;
    case AVAHI_BROWSER_REMOVE:
      ForgetResolver(iface, name);
      Emit(table_.Removed(name, iface));
      break;
    case AVAHI_BROWSER_FAILURE:  // daemon loss also arrives as client FAILURE, which reconnects
      GL_LOG(kWarn, kLog) << "browser failure: " << ClientError(client_);
      break;
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    case AVAHI_BROWSER_ALL_FOR_NOW:
      break;
  }
}

void AvahiDiscovery::Resolve(AvahiIfIndex iface, const std::string& name, const std::string& domain) {
  // Kept until REMOVE, so a changed TXT or address resolves again.
  AvahiServiceResolver* handle = avahi_service_resolver_new(
      client_, iface, AVAHI_PROTO_INET, name.c_str(), kServiceType, domain.c_str(), AVAHI_PROTO_INET,
      AvahiLookupFlags(0),
      [](AvahiServiceResolver* r, AvahiIfIndex i, AvahiProtocol, AvahiResolverEvent e, const char* n, const char*,
         const char*, const char* host, const AvahiAddress* a, uint16_t port, AvahiStringList* txt,
         AvahiLookupResultFlags, void* self) { static_cast<AvahiDiscovery*>(self)->OnResolve(r, i, e, n, host, a, port, txt); },
      this);
  if (handle == nullptr) {
    GL_LOG(kWarn, kLog) << "cannot resolve '" << name << "': " << ClientError(client_);
    return;
  }
  resolvers_[{iface, name}] = Resolver{handle, domain, "", ""};
}

void AvahiDiscovery::ForgetResolver(AvahiIfIndex iface, const std::string& name) {
  const auto it = resolvers_.find({iface, name});
  if (it == resolvers_.end()) return;
  avahi_service_resolver_free(it->second.handle);
  resolvers_.erase(it);
}

void AvahiDiscovery::OnResolve(AvahiServiceResolver* resolver, AvahiIfIndex iface, AvahiResolverEvent event,
                               const char* name, const char* host, const AvahiAddress* address, uint16_t port,
                               AvahiStringList* txt) {
  if (event != AVAHI_RESOLVER_FOUND || address == nullptr || address->proto != AVAHI_PROTO_INET) {
    GL_LOG(kWarn, kLog) << "cannot resolve '" << name << "': "
                        << ClientError(avahi_service_resolver_get_client(resolver));
    ForgetResolver(iface, name);
    Emit(table_.Removed(name, iface));
    return;
  }
  PeerEvent peer;
  peer.kind = PeerEvent::Kind::kUp;
  peer.source = "mdns";
  peer.service_name = name;
  peer.txt = FromAvahiTxt(txt);
  peer.id = peer.txt[kTxtId];
  if (const auto it = resolvers_.find({iface, name}); it != resolvers_.end()) {
    Resolver& known = it->second;
    if (!known.host.empty() && (known.host != host || known.id != peer.id)) {
      // The name moved to another node (e.g. two claimed it at once): a long-lived resolver
      // then mixes old and new records (measured: the new TXT with the old host's address),
      // so resolve afresh.
      const std::string domain = known.domain;
      ForgetResolver(iface, name);
      Resolve(iface, name, domain);
      return;
    }
    known.host = host;
    known.id = peer.id;
  }
  const std::string reason = SkipReason(options_, peer.txt);
  if (!reason.empty()) {
    if (reason != "own service" && logged_skips_.insert(std::string(name) + "\n" + reason).second) {
      GL_LOG(kInfo, kLog) << "skipping '" << name << "': " << reason;
    }
    Emit(table_.Removed(name, iface));
    return;
  }
  char ip[AVAHI_ADDRESS_STR_MAX];
  avahi_address_snprint(ip, sizeof(ip), address);
  peer.address = std::string(ip) + ":" + std::to_string(port);
  Emit(table_.Resolved(name, iface, std::move(peer)));
}

void AvahiDiscovery::WarnUnreachable(const std::string& detail) {
  if (warned_unreachable_ || ever_running_) return;
  warned_unreachable_ = true;
  GL_LOG(kWarn, kLog) << kUnreachable << " (" << detail << "; retrying in the background)";
}

AvahiTimeout* AvahiDiscovery::Arm(AvahiTimeout* timer, std::chrono::milliseconds delay,
                                  AvahiTimeoutCallback callback) {
  struct timeval when;
  avahi_elapse_time(&when, static_cast<unsigned>(delay.count()), 0);
  const AvahiPoll* api = avahi_threaded_poll_get(poll_);
  if (timer == nullptr) return api->timeout_new(api, &when, callback, this);
  api->timeout_update(timer, &when);
  return timer;
}

void AvahiDiscovery::Emit(const std::vector<PeerEvent>& events) {
  for (const PeerEvent& event : events) {
    GL_LOG(kInfo, kLog) << "peer " << (event.kind == PeerEvent::Kind::kUp ? "up" : "down") << " '"
                        << event.service_name << "' id " << event.id << " at " << event.address;
    if (!on_event_) continue;
    try {  // an exception must not unwind through Avahi's C code
      on_event_(event);
    } catch (const std::exception& e) {
      GL_LOG(kError, kLog) << "peer event callback threw: " << e.what();
    }
  }
}

}  // namespace

std::unique_ptr<Discovery> MakeAvahiDiscovery(const Options& options) {
  return std::make_unique<AvahiDiscovery>(options);
}

}  // namespace gl::discovery
