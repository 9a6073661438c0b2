// Task and result messages come from the network: every field is bounded before use.
#include <gtest/gtest.h>

#include <sstream>

#include "cluster/blob_store.h"
#include "cluster/task.h"

namespace cryptounet::cluster {
namespace {

const std::string kJob(32, 'b');
const std::string kHash = content_hash("x");
const std::string kWorker = "worker-1";

TEST(ClusterMessages, TaskRoundTrip) {
  const Task t{kJob, 2, 3, kHash, content_hash("y"), 4};
  const Task back = decode_task(encode(t));
  EXPECT_EQ(back.job, t.job);
  EXPECT_EQ(back.group, 2u);
  EXPECT_EQ(back.groups, 3u);
  EXPECT_EQ(back.keys, t.keys);
  EXPECT_EQ(back.input, t.input);
  EXPECT_EQ(back.ciphertexts, 4u);
}

TEST(ClusterMessages, ResultRoundTrip) {
  TaskResult r;
  r.job = kJob;
  r.group = 1;
  r.output = kHash;
  r.layers = {{0, 0.5}, {3, 1.25}};
  r.worker = kWorker;
  r.delivery = 2;
  r.keys_cached = true;
  r.compute_s = 3.5;
  const TaskResult back = decode_result(encode(r));
  EXPECT_EQ(back.output, kHash);
  EXPECT_EQ(back.layers, r.layers);
  EXPECT_EQ(back.delivery, 2u);
  EXPECT_TRUE(back.keys_cached);
  EXPECT_EQ(back.compute_s, 3.5);
  TaskResult failed;
  failed.job = kJob;
  failed.error = "evaluation keys refused";
  EXPECT_EQ(decode_result(encode(failed)).error, failed.error);
}

TEST(ClusterMessages, OutOfBoundsFieldsAreRefused) {
  const auto task = [&](const std::string& group, const std::string& groups, const std::string& job,
                        const std::string& keys) {
    std::ostringstream out;
    out << R"({"v":1,"job":")" << job << R"(","group":)" << group << R"(,"groups":)" << groups << R"(,"keys":")"
        << keys << R"(","input":")" << kHash << R"(","ciphertexts":1})";
    return out.str();
  };
  EXPECT_NO_THROW(decode_task(task("0", "1", kJob, kHash)));
  EXPECT_THROW(decode_task(task("1", "1", kJob, kHash)), std::runtime_error);        // group past the end
  EXPECT_THROW(decode_task(task("7.8e103", "1", kJob, kHash)), std::runtime_error);  // not an integer in range
  EXPECT_THROW(decode_task(task("-1", "1", kJob, kHash)), std::runtime_error);
  EXPECT_THROW(decode_task(task("0", "1", "../../etc", kHash)), std::runtime_error);  // not a job key
  EXPECT_THROW(decode_task(task("0", "1", kJob, "ABC")), std::runtime_error);        // not a content hash
  EXPECT_THROW(decode_task("not json"), std::runtime_error);
  EXPECT_THROW(decode_task(std::string(kMaxMessageBytes + 1, ' ')), std::runtime_error);
  std::ostringstream infinite;  // a layer time of 1e999 parses as infinity
  infinite << R"({"v":1,"job":")" << kJob << R"(","group":0,"output":")" << kHash
           << R"(","layers":[[0,1e999]],"worker":"w","delivery":1,"keys_cached":false,"fetch_keys_s":0,)"
           << R"("parse_keys_s":0,"fetch_input_s":0,"compute_s":0,"upload_s":0})";
  EXPECT_THROW(decode_result(infinite.str()), std::runtime_error);
}

TEST(ClusterMessages, ContentHash) {
  EXPECT_TRUE(is_content_hash(kHash));
  EXPECT_EQ(kHash.size(), 64u);
  EXPECT_NE(content_hash("x"), content_hash("y"));
  EXPECT_FALSE(is_content_hash(std::string(64, 'G')));
}

}  // namespace
}  // namespace cryptounet::cluster
