// Crash-safe file replacement: write to a temporary name in the same directory, fsync, rename over the target.
// A reader (or a restarted server) sees either the old file or the complete new one, never a torn write.
#pragma once
#include <filesystem>
#include <string_view>

namespace cryptounet::serve {

void write_file_atomically(const std::filesystem::path& target, std::string_view contents);
// Publishes an already written (and closed) file under its final name: fsync it, rename, fsync the directory.
void publish_file(const std::filesystem::path& written, const std::filesystem::path& target);

}  // namespace cryptounet::serve
