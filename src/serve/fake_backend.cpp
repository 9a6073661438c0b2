#include "serve/fake_backend.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

namespace cryptounet::serve {
namespace {

constexpr std::string_view kKeysMagic = "CUFAKEK1";
constexpr std::string_view kSecretMagic = "CUFAKESK";
constexpr std::string_view kBatchMagic = "CUFAKEB1";
constexpr std::string_view kResultMagic = "CUFAKER1";
constexpr std::size_t kHeaderBytes = 8 + 8 + 4;
constexpr char kResultMask = 0x5a;

std::string make_file(std::string_view magic, std::uint64_t fingerprint, std::string_view payload) {
  std::string out(magic);
  const auto length = static_cast<std::uint32_t>(payload.size());
  out.append(reinterpret_cast<const char*>(&fingerprint), sizeof fingerprint);
  out.append(reinterpret_cast<const char*>(&length), sizeof length);
  out.append(payload);
  return out;
}

struct ParsedFile {
  std::string header;  // magic, fingerprint, length
  std::string payload;
};

// Reads and checks the framing; the header is returned for the caller to judge.
ParsedFile parse_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UploadRejected(RejectReason::Malformed, std::string(what) + ": cannot open file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < kHeaderBytes) throw UploadRejected(RejectReason::Malformed, std::string(what) + ": truncated header");
  ParsedFile parsed;
  parsed.header = bytes.substr(0, kHeaderBytes);
  std::uint32_t length = 0;
  std::memcpy(&length, bytes.data() + 16, 4);
  if (bytes.size() - kHeaderBytes != length)
    throw UploadRejected(RejectReason::Malformed, std::string(what) + ": length field does not match the file size");
  parsed.payload = bytes.substr(kHeaderBytes);
  return parsed;
}

}  // namespace

std::vector<std::string> FakeBackend::layer_names() const {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < options_.layers; ++i) names.push_back("fake" + std::to_string(i));
  return names;
}

HeaderVerdict FakeBackend::check_keys_header(std::string_view head) const {
  if (head.size() < kHeaderBytes) return HeaderVerdict::NeedMore;
  const auto magic = head.substr(0, 8);
  if (magic == kSecretMagic) throw UploadRejected(RejectReason::SecretKey, "this is a secret key");
  if (magic != kKeysMagic) throw UploadRejected(RejectReason::Malformed, "key bundle: bad magic");
  check_fingerprint(head, "key bundle");
  return HeaderVerdict::Accepted;
}

HeaderVerdict FakeBackend::check_batch_header(std::string_view head, const std::filesystem::path& /*keys*/) const {
  if (head.size() < kHeaderBytes) return HeaderVerdict::NeedMore;
  if (head.substr(0, 8) != kBatchMagic) throw UploadRejected(RejectReason::Malformed, "batch: bad magic");
  check_fingerprint(head, "batch");
  return HeaderVerdict::Accepted;
}

void FakeBackend::check_fingerprint(std::string_view head, const char* what) const {
  std::uint64_t fingerprint = 0;
  std::memcpy(&fingerprint, head.data() + 8, sizeof fingerprint);
  if (fingerprint != options_.fingerprint)
    throw UploadRejected(RejectReason::WrongParameters, std::string(what) + ": parameters differ from the model's");
}

void FakeBackend::validate_keys(const std::filesystem::path& keys) const {
  const auto parsed = parse_file(keys, "key bundle");
  (void)check_keys_header(parsed.header);
}

void FakeBackend::validate_batch(const std::filesystem::path& batch, const std::filesystem::path& keys) const {
  const auto parsed = parse_file(batch, "batch");
  (void)check_batch_header(parsed.header, keys);
  validate_keys(keys);
}

void FakeBackend::run(const std::filesystem::path& /*keys*/, const std::filesystem::path& batch,
                      const std::filesystem::path& result, const ProgressCallback& progress) {
  const auto parsed = parse_file(batch, "batch");
  for (std::size_t i = 0; i < options_.layers; ++i) {
    std::this_thread::sleep_for(options_.layer_delay);
    const double seconds = std::chrono::duration<double>(options_.layer_delay).count();
    if (!progress(LayerDone{i, seconds})) throw Cancelled();
  }
  std::ofstream out(result, std::ios::binary | std::ios::trunc);
  out << kResultMagic << expected_result(parsed.payload).substr(kResultMagic.size());
  if (!out) throw std::runtime_error("cannot write the result");
}

std::string FakeBackend::make_keys(std::uint64_t fingerprint, std::string_view payload) {
  return make_file(kKeysMagic, fingerprint, payload);
}
std::string FakeBackend::make_secret_key(std::uint64_t fingerprint, std::string_view payload) {
  return make_file(kSecretMagic, fingerprint, payload);
}
std::string FakeBackend::make_batch(std::uint64_t fingerprint, std::string_view payload) {
  return make_file(kBatchMagic, fingerprint, payload);
}
std::string FakeBackend::expected_result(std::string_view batch_payload) {
  std::string out(kResultMagic);
  for (char c : batch_payload) out.push_back(static_cast<char>(c ^ kResultMask));
  return out;
}

}  // namespace cryptounet::serve
