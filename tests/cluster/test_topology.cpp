// The streams' replica count and the server list, against a real single nats-server (nats_server.h).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "cluster/topology.h"
#include "nats_server.h"

namespace cryptounet::cluster {
namespace {

jsStreamInfo* stream_info(NatsClient& nats, const char* name) {
  jsStreamInfo* info = nullptr;
  check(js_GetStreamInfo(&info, nats.jetstream(), name, nullptr, nullptr), std::string("stream info ") + name);
  return info;
}

TEST(ClusterTopology, ConnectsThroughACommaSeparatedServerList) {
  testing::NatsServer server;
  NatsSettings settings = server.settings("list");
  settings.url = settings.url + " , " + settings.url;
  NatsClient nats(settings);
  ensure_streams(nats);
  for (const char* name : {kTaskStream, kResultStream, kBlobStream}) {
    jsStreamInfo* info = stream_info(nats, name);
    EXPECT_EQ(info->Config->Replicas, 1) << name;
    jsStreamInfo_Destroy(info);
  }
}

TEST(ClusterTopology, ReplicaCountIsBoundedAndPassedToTheServer) {
  testing::NatsServer server;
  NatsClient nats(server.settings("replicas"));
  EXPECT_THROW(ensure_streams(nats, 0), std::invalid_argument);
  EXPECT_THROW(ensure_streams(nats, 6), std::invalid_argument);
  // A single server cannot hold 3 copies: its refusal comes through (scripts/cluster.sh's 3-node cluster holds them;
  // tests/cluster/cluster_sh.sh).
  try {
    ensure_streams(nats, 3);
    FAIL() << "a single server accepted 3 replicas";
  } catch (const NatsError& e) {
    EXPECT_NE(std::string(e.what()).find("replicas"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cryptounet::cluster
