#include "serve/tokens.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cryptounet::serve {
namespace {

constexpr std::size_t kMaxFileBytes = 1 << 20;

bool is_token_char(char c) { return c > ' ' && c < 0x7f; }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Wipes the secret bytes a string held before it is freed.
struct WipeOnExit {
  std::string& text;
  ~WipeOnExit() { sodium_memzero(text.data(), text.size()); }
};

}  // namespace

// Checked on the open descriptor: no race with a chmod or a swapped link.
std::string read_private_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw std::runtime_error("cannot open " + file.string() + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw std::runtime_error(file.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    throw std::runtime_error(fmt::format("{} holds secrets but is accessible by group or others (mode {:o}); "
                                         "run chmod 600 on it",
                                         file.string(), st.st_mode & 0777));
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes)
    throw std::runtime_error(file.string() + " is larger than 1 MiB");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const auto n = ::read(fd, text.data() + got, text.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

bool is_valid_client_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

TokenTable::TokenTable() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium initialization failed");
  randombytes_buf(key_.data(), key_.size());
}

TokenTable::Hash TokenTable::hash(std::string_view token) const {
  Hash h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                     key_.data(), key_.size());
  return h;
}

void TokenTable::add(std::string name, std::string_view token, const std::string& where) {
  if (!is_valid_client_name(name))
    throw std::runtime_error(where + ": the client name must be 1-64 characters of A-Z a-z 0-9 _ -");
  if (token.size() < kMinTokenLength || token.size() > kMaxTokenLength)
    throw std::runtime_error(fmt::format("{}: the token of '{}' must have {} to {} characters", where, name,
                                         kMinTokenLength, kMaxTokenLength));
  for (char c : token)
    if (!is_token_char(c))
      throw std::runtime_error(where + ": the token of '" + name + "' has a space or a non-printable character");
  if (contains(name)) throw std::runtime_error(where + ": client '" + name + "' appears twice");
  if (authenticate(token)) throw std::runtime_error(where + ": the token of '" + name + "' is already used");
  entries_.push_back({std::move(name), hash(token)});
}

TokenTable TokenTable::load(const std::filesystem::path& file) {
  auto text = read_private_file(file);
  WipeOnExit wipe{text};
  TokenTable table;
  std::size_t line_number = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto end = std::min(text.find('\n', at), text.size());
    std::string_view line(text.data() + at, end - at);
    at = end + 1;
    ++line_number;
    while (!line.empty() && is_blank(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto where = file.string() + ":" + std::to_string(line_number);
    const auto gap = line.find_first_of(" \t");
    if (gap == std::string_view::npos) throw std::runtime_error(where + ": expected 'name token'");
    auto token = line.substr(gap);
    while (!token.empty() && is_blank(token.front())) token.remove_prefix(1);
    if (token.find_first_of(" \t") != std::string_view::npos)
      throw std::runtime_error(where + ": expected exactly two fields, 'name token'");
    table.add(std::string(line.substr(0, gap)), token, where);
  }
  if (table.entries_.empty()) throw std::runtime_error("tokens file " + file.string() + " names no client");
  return table;
}

TokenTable TokenTable::from_pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  TokenTable table;
  for (const auto& [name, token] : pairs) table.add(name, token, "token of '" + name + "'");
  if (table.entries_.empty()) throw std::runtime_error("no client token given");
  return table;
}

std::optional<std::string> TokenTable::authenticate(std::string_view token) const {
  const auto presented = hash(token);
  const Entry* match = nullptr;
  // Every entry is compared, so the time does not tell which one matched.
  for (const auto& entry : entries_)
    if (sodium_memcmp(entry.hash.data(), presented.data(), presented.size()) == 0) match = &entry;
  if (!match) return std::nullopt;
  return match->name;
}

bool TokenTable::contains(std::string_view name) const {
  for (const auto& entry : entries_)
    if (entry.name == name) return true;
  return false;
}

}  // namespace cryptounet::serve
