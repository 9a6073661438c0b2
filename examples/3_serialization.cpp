// Example 3: serialization — a client encrypts, a server computes on what it received as bytes, the client
// decrypts. Every load checks the format, the parameter fingerprint, all lengths and all coefficient ranges.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keygenerator.h"
#include "ckks/serialization.h"

using namespace cryptounet::ckks;

int main() {
  // --- client ---
  const Parameters params = Parameters::create({13, {50, 40, 40}, {50}});
  const ContextPtr client_ctx = Context::create(params);
  KeyGenerator keygen(client_ctx);
  std::stringstream to_server;
  save(to_server, params);
  save(to_server, *client_ctx, keygen.create_relin_key());
  std::vector<double> x(client_ctx->slot_count());
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.01 * static_cast<double>(i));
  Encoder encoder(client_ctx);
  // Secret-key encryption: c1 is derived from a 32-byte seed, so the fresh ciphertext travels at half size.
  const Ciphertext ct = Encryptor(client_ctx, keygen.secret_key())
                            .encrypt(encoder.encode(x, client_ctx->max_level(), std::pow(2.0, 40)));
  std::printf("ciphertext: %zu bytes serialized (seeded), %zu bytes in memory\n",
              serialized_size(*client_ctx, ct), ct.memory_bytes());
  save(to_server, *client_ctx, ct);
  // The secret key never leaves the client; on disk it is owner-only (mode 0600).
  // It is never silently overwritten, so the file name is this process's own.
  const auto key_path =
      std::filesystem::temp_directory_path() / ("cryptounet_example_" + std::to_string(::getpid()) + ".key");
  save_secret_key(key_path.string(), *client_ctx, keygen.secret_key());

  // --- server: knows nothing but the bytes ---
  const Parameters server_params = load_parameters(to_server);
  const ContextPtr server_ctx = Context::create(server_params);
  const RelinKey relin_key = load_relin_key(to_server, *server_ctx);
  const Ciphertext received = load_ciphertext(to_server, *server_ctx);
  Evaluator evaluator(server_ctx);
  const Ciphertext squared = evaluator.rescale(evaluator.square_relin(received, relin_key));
  std::stringstream to_client;
  save(to_client, *server_ctx, squared);

  // A corrupted message is rejected with a clear error, never a crash.
  std::string corrupted = to_client.str();
  corrupted[8] ^= 0x5a;  // inside the parameter fingerprint
  std::istringstream bad(corrupted);
  try {
    load_ciphertext(bad, *client_ctx);
    std::printf("corrupted input was accepted!\n");
    return 1;
  } catch (const std::runtime_error& e) {
    std::printf("corrupted input rejected: %s\n", e.what());
  }

  // --- client ---
  const SecretKey secret = load_secret_key(key_path.string(), *client_ctx);
  std::filesystem::remove(key_path);
  const std::vector<double> result =
      encoder.decode(Decryptor(client_ctx, secret).decrypt(load_ciphertext(to_client, *client_ctx)));
  double max_error = 0;
  for (size_t i = 0; i < x.size(); ++i) max_error = std::max(max_error, std::fabs(result[i] - x[i] * x[i]));
  std::printf("x^2 computed by the server, max error %.2e\n", max_error);
  return max_error < 1e-5 ? 0 : 1;
}
