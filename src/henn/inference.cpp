#include "henn/inference.h"

#include "henn/resources.h"
#include "henn/upload_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace cryptounet::henn {

std::string describe(const NodeProgress& p) {
  return fmt::format("[ct {}-{}/{}] node {:2d} {:<16} level {:2d} {:7.2f}s  peak RSS {:.0f} MiB", p.first_ciphertext + 1,
                     p.first_ciphertext + p.group_size, p.ciphertext_count, p.node, nn::op_name(p.model_node->op),
                     p.output->front().channels.front().level(), p.seconds, peak_rss_mb());
}

EncryptedBatch run_inference(const nn::Model& model, const EvaluationKeys& keys, const EncryptedBatch& batch,
                             const NodeProgressCallback& progress, InferenceStats* stats) {
  check_batch_layout(keys.plan, batch.layout);
  check_plan_capacity(model, keys.plan);
  const Schedule schedule = Schedule::create(model);
  const Layout& layout = keys.plan.layout;
  CkksBackend backend(keys.context, keys.relin, keys.galois);
  EncryptedBatch result{batch.layout, batch.tile_stride, batch.images, {}, batch.id};
  InferenceStats local;
  local.node_seconds.assign(model.nodes.size(), 0.0);
  const auto start = std::chrono::steady_clock::now();
  const int channels = model.input().channels;
  if (batch.ciphertexts.size() % static_cast<std::size_t>(channels) != 0)
    throw std::invalid_argument("encrypted inference: " + std::to_string(batch.ciphertexts.size()) +
                                " ciphertexts are no whole tile groups of " + std::to_string(channels) +
                                " input channels");
  const int count = static_cast<int>(batch.ciphertexts.size()) / channels;
  for (int first = 0; first < count; first += Layout::kMaxLanes) {
    const int group = std::min(Layout::kMaxLanes, count - first);
    auto on_node = [&](int node, double seconds, const LaneMaps<ckks::Ciphertext>& out) {
      local.node_seconds[node] += seconds;
      if (progress) progress({node, &model.nodes[node], first, group, count, seconds, &out});
    };
    std::vector<ckks::Ciphertext> inputs(batch.ciphertexts.begin() + first * channels,
                                         batch.ciphertexts.begin() + (first + group) * channels);
    for (auto& input : inputs)
      if (input.level() > schedule.levels) input.drop_to_level(schedule.levels);
    for (auto& out : run_network(backend, model, layout, std::move(inputs), keys.plan.layer, on_node))
      result.ciphertexts.push_back(std::move(out));
  }
  local.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  local.counts = backend.counts();
  if (stats) *stats = std::move(local);
  return result;
}

}  // namespace cryptounet::henn
