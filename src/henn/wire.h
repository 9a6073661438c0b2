// Little-endian fields with explicit lengths for the henn file headers (batch files, key bundles); every read
// checks the stream and the bounds it is given, so truncated or corrupted files throw std::runtime_error.
#pragma once

#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>

namespace cryptounet::henn::wire {

template <typename T>
void put(std::ostream& out, T value) {
  static_assert(std::is_arithmetic_v<T>);
  out.write(reinterpret_cast<const char*>(&value), sizeof(T));  // x86-64: little-endian
}

template <typename T>
T get(std::istream& in, const char* what) {
  T value{};
  if (!in.read(reinterpret_cast<char*>(&value), sizeof(T)))
    throw std::runtime_error(std::string("truncated file while reading ") + what);
  return value;
}

template <typename T>
T get_in_range(std::istream& in, const char* what, T lo, T hi) {
  const T v = get<T>(in, what);
  if (!(v >= lo && v <= hi))
    throw std::runtime_error(std::string("corrupted file: ") + what + " = " + std::to_string(v) + " out of range");
  return v;
}

inline void put_string(std::ostream& out, const std::string& s) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

inline std::string get_string(std::istream& in, const char* what) {
  const auto n = get_in_range<std::uint32_t>(in, what, 0, 4096);
  std::string s(n, '\0');
  if (n && !in.read(s.data(), n)) throw std::runtime_error(std::string("truncated file while reading ") + what);
  return s;
}

// Magic (4 bytes) and format version (u16).
inline void put_magic(std::ostream& out, const char (&magic)[5], std::uint16_t version) {
  out.write(magic, 4);
  put<std::uint16_t>(out, version);
}

inline void expect_magic(std::istream& in, const char (&magic)[5], std::uint16_t version, const char* what) {
  char m[4];
  if (!in.read(m, 4) || std::memcmp(m, magic, 4) != 0)
    throw std::runtime_error(std::string("not a cryptounet ") + what + " file (bad magic)");
  const auto v = get<std::uint16_t>(in, "format version");
  if (v != version)
    throw std::runtime_error(std::string(what) + " file has format version " + std::to_string(v) + ", expected " +
                             std::to_string(version));
}

}  // namespace cryptounet::henn::wire
