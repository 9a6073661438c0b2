#include "henn/key_bundle.h"

#include "ckks/keygenerator.h"

namespace cryptounet::henn {

std::pair<ClientKeys, EvaluationKeys> generate_keys(const InferencePlan& plan) {
  const auto context = ckks::Context::create(ckks::Parameters::create(plan.spec));
  ckks::KeyGenerator keygen(context);
  ClientKeys client{plan, context, keygen.secret_key(), keygen.create_public_key()};
  EvaluationKeys eval{plan, context, keygen.create_relin_key(plan.relin_level),
                      keygen.create_galois_keys(plan.rotation_steps, plan.rotation_levels)};
  return {std::move(client), std::move(eval)};
}

}  // namespace cryptounet::henn
