// The clients allowed to use the service: a tokens file with one "name token" per line (blank lines and lines
// starting with '#' are ignored). The file must be a regular file readable by its owner only (mode 0600 or
// stricter), since whoever reads it can act as any client. Tokens are kept only as keyed BLAKE2b hashes (libsodium
// crypto_generichash under a key drawn at load) and compared in constant time; they are never logged.
#pragma once
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cryptounet::serve {

// The contents of a file holding secrets (a tokens file, a client's token), after checking on the open file that
// it is a regular file, not a symbolic link, and that neither group nor others may access it. Throws otherwise.
std::string read_private_file(const std::filesystem::path& file);

// A client name: 1 to 64 of [A-Za-z0-9_-]. It names the owner of keys and jobs (and a folder on disk).
bool is_valid_client_name(std::string_view name);

class TokenTable {
 public:
  static constexpr std::size_t kMinTokenLength = 32;  // e.g. `openssl rand -hex 32` gives 64
  static constexpr std::size_t kMaxTokenLength = 512;

  // Throws std::runtime_error naming the line (never its token) if the file is group/other accessible,
  // malformed, or repeats a name or a token.
  static TokenTable load(const std::filesystem::path& file);
  // From "name token" pairs already in memory (tests, fuzzers); same checks as load().
  static TokenTable from_pairs(const std::vector<std::pair<std::string, std::string>>& pairs);

  // The name whose token this is, or nullopt. Takes the same time whichever entry matches (or none).
  std::optional<std::string> authenticate(std::string_view token) const;
  std::size_t size() const { return entries_.size(); }
  bool contains(std::string_view name) const;

 private:
  using Hash = std::array<unsigned char, 32>;
  struct Entry {
    std::string name;
    Hash hash;
  };
  TokenTable();
  Hash hash(std::string_view token) const;
  void add(std::string name, std::string_view token, const std::string& where);

  std::array<unsigned char, 32> key_{};
  std::vector<Entry> entries_;
};

}  // namespace cryptounet::serve
