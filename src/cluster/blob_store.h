// Content-addressed blobs (evaluation keys, a task's ciphertexts, a task's result) in a JetStream stream. Debian's
// C client (3.4.1) has no object store, so this is the same idea in its simplest form: a blob is uploaded as
// chunks on cryptounet.blob.data.<hash>.<upload> (the upload id keeps two concurrent uploads of the same blob
// apart), then a manifest {"size", "chunks", "upload"} on cryptounet.blob.meta.<hash> says it is complete. A
// reader takes the last manifest and streams the chunks through an ordered consumer; it bounds the size before
// reading and checks the BLAKE2b-256 digest of what it read against the name, so a blob is trusted only for the
// bytes it names.
#pragma once
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>

#include "cluster/nats_client.h"

namespace cryptounet::cluster {

// BLAKE2b-256 as 64 lowercase hex digits.
std::string content_hash(std::string_view bytes);
std::string content_hash_of_file(const std::filesystem::path& path);
bool is_content_hash(std::string_view text);

class BlobStore {
 public:
  explicit BlobStore(NatsClient& nats);

  bool contains(const std::string& hash) const;
  // Uploads unless a complete blob of that hash is already stored. Returns the hash.
  std::string put(std::string_view bytes);
  std::string put_file(const std::filesystem::path& path, const std::string& hash);
  // Streams the blob into `out`; throws if it is missing, larger than max_bytes, or not the named content.
  void get(const std::string& hash, std::ostream& out, std::uint64_t max_bytes) const;
  std::string get(const std::string& hash, std::uint64_t max_bytes) const;
  // Deletes every upload of the blob.
  void remove(const std::string& hash);

 private:
  void upload(const std::string& hash, std::istream& in, std::uint64_t size);

  NatsClient& nats_;
  std::size_t chunk_bytes_;
};

}  // namespace cryptounet::cluster
