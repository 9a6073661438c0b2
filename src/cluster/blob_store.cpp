#include "cluster/blob_store.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "cluster/topology.h"
#include "io/json_number.h"
#include "serve/ids.h"

namespace cryptounet::cluster {
namespace {

constexpr std::size_t kDigestBytes = 32;
constexpr std::size_t kMaxChunkBytes = std::size_t{4} << 20;
constexpr std::size_t kHeaderRoom = 1024;  // headers NATS adds to a JetStream message
constexpr std::int64_t kChunkWaitMs = 30000;  // longest pause between two chunks of one blob before reading on
constexpr std::uint64_t kMaxResumes = 3;       // fresh consumers per read before giving up

class Digest {
 public:
  Digest() { crypto_generichash_init(&state_, nullptr, 0, kDigestBytes); }
  void update(const char* data, std::size_t size) {
    crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(data), size);
  }
  std::string hex() {
    std::array<unsigned char, kDigestBytes> digest{};
    crypto_generichash_final(&state_, digest.data(), digest.size());
    std::string out(2 * kDigestBytes + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), digest.data(), digest.size());
    out.pop_back();
    return out;
  }

 private:
  crypto_generichash_state state_;
};

std::string meta_subject(const std::string& hash) { return "cryptounet.blob.meta." + hash; }
std::string data_subject(const std::string& hash, const std::string& upload) {
  return "cryptounet.blob.data." + hash + "." + upload;
}

void require_hash(const std::string& hash) {
  if (!is_content_hash(hash)) throw std::runtime_error("not a content hash: '" + hash.substr(0, 80) + "'");
}

void purge(NatsClient& nats, const std::string& subject) {
  jsOptions options;
  jsOptions_Init(&options);
  options.Stream.Purge.Subject = subject.c_str();
  jsErrCode error = static_cast<jsErrCode>(0);
  check(js_PurgeStream(nats.jetstream(), kBlobStream, &options, &error), "purging " + subject, error);
}

struct Manifest {
  std::uint64_t size = 0;
  std::uint64_t chunks = 0;
  std::string upload;
};

}  // namespace

std::string content_hash(std::string_view bytes) {
  Digest d;
  d.update(bytes.data(), bytes.size());
  return d.hex();
}

std::string content_hash_of_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  Digest d;
  std::vector<char> buffer(std::size_t{1} << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    d.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  return d.hex();
}

bool is_content_hash(std::string_view text) {
  return text.size() == 2 * kDigestBytes &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

BlobStore::BlobStore(NatsClient& nats)
    : nats_(nats),
      chunk_bytes_(std::min<std::size_t>(kMaxChunkBytes, static_cast<std::size_t>(nats.max_payload()) - kHeaderRoom)) {}

bool BlobStore::contains(const std::string& hash) const {
  require_hash(hash);
  natsMsg* msg = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status =
      js_GetLastMsg(&msg, nats_.jetstream(), kBlobStream, meta_subject(hash).c_str(), nullptr, &error);
  natsMsg_Destroy(msg);
  if (status == NATS_NOT_FOUND || error == JSNoMessageFoundErr) return false;
  check(status, "looking up blob " + hash, error);
  return true;
}

std::string BlobStore::put(std::string_view bytes) {
  const std::string hash = content_hash(bytes);
  if (contains(hash)) return hash;
  std::istringstream in{std::string(bytes)};
  upload(hash, in, bytes.size());
  return hash;
}

std::string BlobStore::put_file(const std::filesystem::path& path, const std::string& hash) {
  if (contains(hash)) return hash;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  upload(hash, in, std::filesystem::file_size(path));
  return hash;
}

void BlobStore::upload(const std::string& hash, std::istream& in, std::uint64_t size) {
  require_hash(hash);
  const std::string upload_id = serve::random_id();
  const std::string subject = data_subject(hash, upload_id);
  std::vector<char> chunk(chunk_bytes_);
  std::uint64_t chunks = 0, sent = 0;
  Digest digest;
  while (sent < size) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), size - sent));
    in.read(chunk.data(), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in.gcount()) != n) throw std::runtime_error("blob source ended early");
    digest.update(chunk.data(), n);
    nats_.publish(subject, {chunk.data(), n}, {}, "uploading blob " + hash);
    sent += n;
    ++chunks;
  }
  // The source changed while it was hashed and sent (a file rewritten in place): never publish a wrong name.
  if (digest.hex() != hash) {
    purge(nats_, subject);
    throw std::runtime_error("blob content changed during upload");
  }
  const std::string manifest =
      nlohmann::json{{"size", size}, {"chunks", chunks}, {"upload", upload_id}}.dump();
  nats_.publish(meta_subject(hash), manifest, {}, "publishing blob manifest " + hash);
}

void BlobStore::get(const std::string& hash, std::ostream& out, std::uint64_t max_bytes) const {
  require_hash(hash);
  natsMsg* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus found =
      js_GetLastMsg(&raw, nats_.jetstream(), kBlobStream, meta_subject(hash).c_str(), nullptr, &error);
  const MsgPtr meta_msg(raw);
  if (found == NATS_NOT_FOUND || error == JSNoMessageFoundErr) throw std::runtime_error("no blob " + hash);
  check(found, "looking up blob " + hash, error);

  Manifest manifest;
  try {
    const auto j = nlohmann::json::parse(
        std::string_view(natsMsg_GetData(meta_msg.get()), static_cast<std::size_t>(natsMsg_GetDataLength(meta_msg.get()))));
    manifest.size = io::json_integer<std::uint64_t>(j.at("size"), "size", 0, max_bytes);
    // Every chunk but an empty blob's carries at least one byte.
    manifest.chunks = io::json_integer<std::uint64_t>(j.at("chunks"), "chunks", 0, manifest.size);
    manifest.upload = j.at("upload").get<std::string>();
  } catch (const std::exception& e) {
    throw std::runtime_error("blob " + hash + ": bad manifest: " + e.what());
  }
  if (!serve::is_valid_id(manifest.upload)) throw std::runtime_error("blob " + hash + ": bad upload id");

  Digest digest;
  std::uint64_t received = 0;
  if (manifest.chunks > 0) {
    const std::string subject = data_subject(hash, manifest.upload), what = "reading blob " + hash;
    std::uint64_t next_sequence = 0;  // stream sequence after the last chunk received; 0: from the first
    SubscriptionPtr subscription = nats_.subscribe_ordered(kBlobStream, subject, what);
    for (std::uint64_t i = 0, resumes = 0; i < manifest.chunks;) {
      natsMsg* chunk_raw = nullptr;
      const natsStatus status = natsSubscription_NextMsg(&chunk_raw, subscription.get(), kChunkWaitMs);
      if (status == NATS_TIMEOUT && resumes < kMaxResumes) {
        // After a NATS node is lost, the server can place an ordered consumer on that node, which then delivers
        // nothing; a fresh consumer reads on from the first chunk not yet received.
        ++resumes;
        spdlog::warn("blob {}: no chunk for {} s; reading on with a fresh consumer from chunk {}", hash,
                     kChunkWaitMs / 1000, i + 1);
        natsSubscription_Unsubscribe(subscription.get());
        subscription = nats_.subscribe_ordered(kBlobStream, subject, what, next_sequence);
        continue;
      }
      check(status, what);
      const MsgPtr chunk(chunk_raw);
      jsMsgMetaData* meta = nullptr;
      check(natsMsg_GetMetaData(&meta, chunk.get()), what);
      next_sequence = meta->Sequence.Stream + 1;
      jsMsgMetaData_Destroy(meta);
      const auto n = static_cast<std::uint64_t>(natsMsg_GetDataLength(chunk.get()));
      if (received + n > manifest.size) throw std::runtime_error("blob " + hash + " is larger than its manifest");
      digest.update(natsMsg_GetData(chunk.get()), n);
      out.write(natsMsg_GetData(chunk.get()), static_cast<std::streamsize>(n));
      received += n;
      ++i;
    }
    natsSubscription_Unsubscribe(subscription.get());
  }
  if (received != manifest.size) throw std::runtime_error("blob " + hash + " is shorter than its manifest");
  if (digest.hex() != hash) throw std::runtime_error("blob " + hash + " does not match its content hash");
  if (!out) throw std::runtime_error("blob " + hash + ": cannot write the copy");
}

std::string BlobStore::get(const std::string& hash, std::uint64_t max_bytes) const {
  std::ostringstream out;
  get(hash, out, max_bytes);
  return std::move(out).str();
}

void BlobStore::remove(const std::string& hash) {
  require_hash(hash);
  purge(nats_, meta_subject(hash));
  purge(nats_, "cryptounet.blob.data." + hash + ".*");
}

}  // namespace cryptounet::cluster
