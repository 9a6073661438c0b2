// Server-side encrypted inference: the library entry point used by `cryptounet infer`, the demo, the bench and the
// HTTP service. Needs only the evaluation keys (no secret key).
#pragma once

#include "ckks/ciphertext.h"
#include "henn/batch.h"
#include "henn/ckks_backend.h"
#include "henn/feature_map.h"
#include "henn/key_bundle.h"
#include "henn/network.h"
#include "nn/model.h"

#include <functional>
#include <string>
#include <vector>

namespace cryptounet::henn {

struct NodeProgress {
  int node = 0;                 // model node index (a fused convolution reports its activation node)
  const nn::Node* model_node = nullptr;
  // The tile groups being processed together (up to 4 lanes), counted in tile groups: each holds
  // layout.tiles_per_ciphertext tiles in one ciphertext per input channel (one ciphertext each for a gray model).
  int first_ciphertext = 0;
  int group_size = 0;
  int ciphertext_count = 0;     // tile groups in the whole batch
  double seconds = 0;           // this node's time for this group
  const LaneMaps<ckks::Ciphertext>* output = nullptr;  // for debug clients holding the secret key
};
// Called after every node of every ciphertext group (serve::ProgressCallback is the service's per-layer report).
using NodeProgressCallback = std::function<void(const NodeProgress&)>;

// One progress line: "[ct 1-4/4] node  7 Quadratic        level 17   35.43s  peak RSS 4580 MiB".
std::string describe(const NodeProgress& p);

struct InferenceStats {
  double seconds = 0;
  std::vector<double> node_seconds;  // summed over the batch's ciphertext groups, indexed like model.nodes
  OpCounts counts;
};

// Runs the model on every tile group of the batch (C = model.input().channels ciphertexts each), up to
// Layout::kMaxLanes groups at a time (interleaved at low resolution); the result holds the encrypted logit maps, K =
// model.output().channels ciphertexts per tile group (same batch id, layout, images and tiles). Throws
// std::invalid_argument if the model, the keys and the batch do not belong together.
EncryptedBatch run_inference(const nn::Model& model, const EvaluationKeys& keys, const EncryptedBatch& batch,
                             const NodeProgressCallback& progress = {}, InferenceStats* stats = nullptr);

}  // namespace cryptounet::henn
