// Keys of one inference setup. The client keeps the secret key (secret.key, mode 0600) and its public key
// (public.bin); the server gets only the evaluation bundle (eval.bin: relinearization key + the Galois keys of the
// planned rotation steps, each holding only the primes of the levels the plan uses it at). Every file starts with the plan (layout, levels, scales) and the CKKS parameters, so the
// two sides agree on the layout without sharing anything else.
#pragma once

#include "ckks/context.h"
#include "ckks/keys.h"
#include "ckks/serialization.h"
#include "henn/planner.h"

#include <iosfwd>
#include <string>
#include <utility>

namespace cryptounet::henn {

struct ClientKeys {
  InferencePlan plan;
  ckks::ContextPtr context;
  ckks::SecretKey secret;
  ckks::PublicKey public_key;
};

struct EvaluationKeys {
  InferencePlan plan;
  ckks::ContextPtr context;
  ckks::RelinKey relin;
  ckks::GaloisKeys galois;

  std::size_t memory_bytes() const { return relin.memory_bytes() + galois.memory_bytes(); }
};

std::pair<ClientKeys, EvaluationKeys> generate_keys(const InferencePlan& plan);

// dir/secret.key (0600, see ckks::save_secret_key: an existing key is refused unless `existing` is kReplace) and
// dir/public.bin.
void save_client_keys(const std::string& dir, const ClientKeys& keys,
                      ckks::IfExists existing = ckks::IfExists::kRefuse);
ClientKeys load_client_keys(const std::string& dir);

// Loading reads the header (plan and parameters) first and refuses a file shorter than the relinearization key and
// the Galois keys its plan needs before it builds the CKKS context; every key must serve exactly the levels the plan
// gives it (InferencePlan::rotation_levels, relin_level), and nothing may follow the last key.
void save_evaluation_keys(const std::string& path, const EvaluationKeys& keys);
EvaluationKeys load_evaluation_keys(const std::string& path);
// Only the header of an evaluation-key file (no context, no keys): for a server to refuse a plan or parameters that
// do not match its model before it loads anything large.
InferencePlan load_evaluation_key_plan(const std::string& path);
// The same from a stream, with the parameters (no context is built): for a server judging the first bytes of an
// upload (upload_check.h).
std::pair<InferencePlan, ckks::Parameters> read_evaluation_keys_header(std::istream& in);

// The plan and the CKKS parameters (the common header of key and batch files).
void save_plan(std::ostream& out, const InferencePlan& plan, const ckks::Parameters& params);
std::pair<InferencePlan, ckks::ContextPtr> load_plan(std::istream& in);

}  // namespace cryptounet::henn
