// The readers of image files take a path: a fuzz input is written to a file of this process's own (under $TMPDIR or
// /tmp, named by the target and the process id, so parallel fuzzers do not share it) and read back from there. The
// file, and any written next to it with a suffix in `companions`, is removed when the process exits.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

namespace cryptounet::fuzz {

class RemovedAtExit {
 public:
  explicit RemovedAtExit(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  ~RemovedAtExit() {
    for (const std::string& path : paths_) std::remove(path.c_str());
  }

 private:
  std::vector<std::string> paths_;
};

inline std::string input_file(const std::string& target, const std::string& extension, const std::uint8_t* data,
                              std::size_t size, std::initializer_list<const char*> companions = {}) {
  const char* tmp = std::getenv("TMPDIR");
  static const std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/cryptounet-" + target + "-" +
                                  std::to_string(::getpid()) + extension;
  static const RemovedAtExit removed = [&] {
    std::vector<std::string> paths{path};
    for (const char* suffix : companions) paths.push_back(path + suffix);
    return RemovedAtExit(std::move(paths));
  }();
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                               static_cast<std::streamsize>(size));
  return path;
}

}  // namespace cryptounet::fuzz
