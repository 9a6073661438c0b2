// The readers of image files take a path: a fuzz input is written to a file of this process's own (under $TMPDIR or
// /tmp, named by the target and the process id, so parallel fuzzers do not share it) and read back from there.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace cryptounet::fuzz {

inline std::string input_file(const std::string& target, const std::string& extension, const std::uint8_t* data,
                              std::size_t size) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/cryptounet-" + target + "-" +
                           std::to_string(::getpid()) + extension;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                               static_cast<std::streamsize>(size));
  return path;
}

}  // namespace cryptounet::fuzz
